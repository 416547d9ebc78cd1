"""Alerts through Airflow's own notifiers: mail (SMTP provider) and Slack (where installed).

Off by default: nothing is sent until ``SEGWISE_ALERT_EMAIL`` or ``SEGWISE_ALERT_SLACK_CONN_ID``
is set. Read when the DAG file is parsed (callbacks are part of the DAG), so a bad setting shows
as the DAG's import error naming the variable. The mail server is the Airflow connection
``SEGWISE_ALERT_SMTP_CONN_ID`` (default ``smtp_default``, e.g. ``AIRFLOW_CONN_SMTP_DEFAULT=
smtp://user:password@mail.example.com:587``); Slack's is a ``slack`` / ``slackwebhook``
connection. Messages are Jinja templates rendered with the Airflow context.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from etl.errors import ConfigurationError

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+$")

RUN_FAILED = (
    "[segwise] run failed: {{ dag.dag_id }} {{ run_id }}",
    "The Airflow run {{ run_id }} of {{ dag.dag_id }} failed ({{ reason | default('') }}). "
    "The previously published segments stay visible. The task `cleanup_if_failed` logs which "
    "tasks failed.",
)
QUALITY_FAILED = (
    "[segwise] data-quality gate failed: {{ dag.dag_id }} {{ run_id }}",
    "The data-quality checks of run {{ run_id }} failed, so it was not published; the previous "
    "results stay visible.\n\n{{ exception | default('') | e }}",
)
WARNINGS = (
    "[segwise] data warnings: {{ dag.dag_id }} {{ run_id }}",
    "The run {{ run_id }} was not held back, but its data look unusual:\n\n{{ warnings | e }}",
)


@dataclass(frozen=True)
class AlertSettings:
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    smtp_conn_id: str = "smtp_default"
    slack_conn_id: str | None = None
    slack_channel: str | None = None
    warn: bool = True  # also send freshness/volume warnings

    @property
    def enabled(self) -> bool:
        return bool(self.email_to or self.slack_conn_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        to = tuple(a for a in re.split(r"[,;\s]+", get("SEGWISE_ALERT_EMAIL") or "") if a)
        bad = [a for a in to if not _EMAIL.match(a)]
        if bad:
            raise ConfigurationError(
                f"SEGWISE_ALERT_EMAIL: {', '.join(map(repr, bad))} is not a mail address "
                "(comma-separated list of name@example.com)"
            )
        warn = (get("SEGWISE_ALERT_WARNINGS") or "true").lower()
        if warn not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigurationError(f"SEGWISE_ALERT_WARNINGS={warn!r}: use true or false")
        settings = cls(
            email_to=to,
            email_from=get("SEGWISE_ALERT_EMAIL_FROM"),
            smtp_conn_id=get("SEGWISE_ALERT_SMTP_CONN_ID") or "smtp_default",
            slack_conn_id=get("SEGWISE_ALERT_SLACK_CONN_ID"),
            slack_channel=get("SEGWISE_ALERT_SLACK_CHANNEL"),
            warn=warn in ("true", "1", "yes"),
        )
        if settings.slack_conn_id:
            _slack_notifier_class()  # fail at parse time when the provider is missing
        return settings


def _slack_notifier_class() -> type:
    try:
        from airflow.providers.slack.notifications.slack import (  # noqa: PLC0415
            SlackNotifier,
        )
    except ImportError:
        raise ConfigurationError(
            "SEGWISE_ALERT_SLACK_CONN_ID is set but the Slack provider is not installed: "
            "pip install apache-airflow-providers-slack (or unset the variable)"
        ) from None
    return SlackNotifier


def notifiers(settings: AlertSettings, message: tuple[str, str]) -> list[Any]:
    """The notifiers for one kind of message (empty when alerts are off)."""
    subject, body = message
    out: list[Any] = []
    if settings.email_to:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier  # noqa: PLC0415

        out.append(
            SmtpNotifier(
                to=list(settings.email_to),
                from_email=settings.email_from,
                subject=subject,
                html_content="<pre>" + body + "</pre>",
                smtp_conn_id=settings.smtp_conn_id,
            )
        )
    if settings.slack_conn_id:
        kwargs: dict[str, Any] = {"slack_conn_id": settings.slack_conn_id}
        if settings.slack_channel:
            kwargs["channel"] = settings.slack_channel
        out.append(_slack_notifier_class()(text=f"*{subject}*\n{body}", **kwargs))
    return out


def send_warnings(settings: AlertSettings, context: Mapping[str, Any], lines: Sequence[str]):
    """Send the watch warnings now (from inside a task); returns how many notifiers sent."""
    if not (settings.enabled and settings.warn and lines):
        return 0
    ctx = {**context, "warnings": "\n".join(f"- {line}" for line in lines)}
    sent = 0
    for notifier in notifiers(settings, WARNINGS):
        notifier(ctx)
        sent += 1
    return sent
