"""Run parameters and DAG settings: the Python-side checks behind the trigger form."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from etl.errors import ConfigurationError, SegwiseError
from etl.orchestration import params
from etl.orchestration.dag_settings import DagSettings, SourceSettings, parse_schedule
from etl.segment.run_config import METHODS

D = date(2026, 11, 23)


def _validate(raw: dict, **kwargs) -> params.RunParams:
    """What tasks.validate_params does with the parameters (without the source settings)."""
    p, errors = params.check(raw, **kwargs)
    params.raise_problems(errors)
    return p


def test_defaults_resolve_to_the_default_date_and_all_methods() -> None:
    p = _validate(
        {"as_of": None, "source": "demo", "layout": None, "methods": list(METHODS)},
        default_as_of=D,
    )
    assert p == params.RunParams(D, "demo", None, tuple(METHODS), None)
    assert params.RunParams.from_dict(p.to_dict()) == p


def test_methods_come_back_in_canonical_order() -> None:
    p = _validate({"methods": ["kmeans", "rfm"], "n_clusters": 5}, default_as_of=D)
    assert p.methods == ("rfm", "kmeans")
    assert p.n_clusters == 5


def test_refit_days_reaches_the_clustering_config() -> None:
    from etl.orchestration.tasks import config_overrides

    p = _validate({"n_clusters": 4, "refit_days": 0}, default_as_of=D)
    assert p.refit_days == 0
    assert params.RunParams.from_dict(p.to_dict()) == p
    assert config_overrides(p.to_dict()) == {"clustering": {"k": 4, "refit_days": 0}}
    assert config_overrides(_validate({}, default_as_of=D).to_dict()) == {}


def test_full_quality_checks_reach_the_run_config() -> None:
    from etl.orchestration.tasks import config_overrides
    from etl.segment.run_config import resolve

    p = _validate({"full_quality_checks": True}, default_as_of=D)
    assert p.full_quality_checks is True
    assert params.RunParams.from_dict(p.to_dict()) == p
    assert config_overrides(p.to_dict()) == {"quality": "full"}
    assert resolve(config_overrides(p.to_dict()))["quality"] == "full"
    off = _validate({"full_quality_checks": False}, default_as_of=D)
    assert config_overrides(off.to_dict()) == {}  # the run config's setting stands
    with pytest.raises(SegwiseError, match="full_quality_checks 'yes' is not true or false"):
        _validate({"full_quality_checks": "yes"}, default_as_of=D)
    with pytest.raises(ConfigurationError, match="quality = 'sometimes'"):
        resolve({"quality": "sometimes"})


@pytest.mark.parametrize("bad", [True, 1.5, "5", -1, 367])
def test_refit_days_must_be_a_whole_number_in_range(bad) -> None:
    with pytest.raises(SegwiseError, match="refit_days"):
        _validate({"refit_days": bad}, default_as_of=D)


def test_every_problem_is_listed_in_one_message() -> None:
    with pytest.raises(SegwiseError) as err:
        _validate(
            {
                "as_of": "2026-02-30",
                "source": "ftp",
                "layout": "nope",
                "methods": ["rfm", "rfm", "astrology"],
                "n_clusters": 99,
                "methdos": ["rfm"],
            },
            default_as_of=D,
            known_layouts=["online_retail", "segwise"],
        )
    msg = str(err.value)
    for fragment in (
        "nothing was written",
        "unknown parameter(s) 'methdos'",
        "as_of '2026-02-30' is not a date",
        "source 'ftp'",
        "layout 'nope' is unknown: choose from online_retail, segwise",
        "unknown method(s) ['astrology']",
        "listed twice: rfm",
        "n_clusters 99 is out of range",
    ):
        assert fragment in msg, (fragment, msg)


@pytest.mark.parametrize("bad", [True, 1.5, "5", 1, 21])
def test_n_clusters_must_be_a_whole_number_in_range(bad) -> None:
    with pytest.raises(SegwiseError, match="n_clusters"):
        _validate({"n_clusters": bad}, default_as_of=D)


@pytest.mark.parametrize("bad", [[], "", None, 5, {}])
def test_methods_must_be_a_non_empty_list(bad) -> None:
    with pytest.raises(SegwiseError, match="methods must be a non-empty list"):
        _validate({"methods": bad}, default_as_of=D)


def test_default_as_of_prefers_the_data_interval_end() -> None:
    end = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert params.default_as_of(data_interval_end=end, logical_date=end) == date(2026, 11, 24)
    # a manual run without logical date: the UTC day it was triggered for
    late = datetime(2026, 11, 23, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert params.default_as_of(run_after=late) == date(2026, 11, 24)


def test_schema_defaults_match_the_python_defaults() -> None:
    schemas = params.param_schemas()
    raw = {name: s["default"] for name, s in schemas.items()}
    p = _validate(raw, default_as_of=D)
    assert p.methods == tuple(METHODS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "@daily"),
        ("@daily", "@daily"),
        ("*/5 * * * *", "*/5 * * * *"),
        ("45s", timedelta(seconds=45)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("none", None),
    ],
)
def test_schedule_values(value, expected) -> None:
    assert parse_schedule(value) == expected


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SEGWISE_SCHEDULE": "tuesdays"}, "SEGWISE_SCHEDULE"),
        ({"SEGWISE_SCHEDULE": "0s"}, "SEGWISE_SCHEDULE"),
        ({"SEGWISE_CATCHUP": "maybe"}, "SEGWISE_CATCHUP"),
        ({"SEGWISE_RETRIES": "-1"}, "SEGWISE_RETRIES"),
        ({"SEGWISE_RETRY_DELAY": "soon"}, "SEGWISE_RETRY_DELAY"),
        ({"SEGWISE_START_DATE": "2024/01/01"}, "SEGWISE_START_DATE"),
        ({"SEGWISE_SOURCE": "ftp"}, "SEGWISE_SOURCE"),
    ],
)
def test_bad_settings_name_the_variable(env, needle) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        DagSettings.from_env(env)


def test_source_settings_from_env(tmp_path) -> None:
    s = SourceSettings.from_env(
        {
            "SEGWISE_INBOX": str(tmp_path),
            "SEGWISE_SOURCE_URL": "postgresql://src/db",
            "SEGWISE_SOURCE_QUERY": "select * from orders",
            "SEGWISE_SOURCE_WATERMARK": "updated_at",
            "SEGWISE_DEMO_CUSTOMERS": "300",
        }
    )
    assert s.inbox == tmp_path
    assert (s.source_url, s.watermark_column) == ("postgresql://src/db", "updated_at")
    assert s.demo_customers == 300
    assert s.demo_history_days == 730
    with pytest.raises(ConfigurationError, match="SEGWISE_DEMO_CUSTOMERS"):
        SourceSettings.from_env({"SEGWISE_DEMO_CUSTOMERS": "3"})
