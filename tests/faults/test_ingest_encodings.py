"""Item 9 of the reliability work: a UTF-8 byte-order mark works under every layout, UTF-8 text
under a latin-1 layout is read as UTF-8 (and said so), and an unusable encoding is refused when
the mapping is checked."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from etl import ingest
from etl.errors import ConfigurationError
from etl.ingest import layouts
from etl.ingest import mapping as mappingmod
from tests.faults.helpers import HEADER
from tests.ingest.conftest import DATA, query

SAMPLES = {
    "online_retail": DATA / "online_retail_small.csv",
    "atliq": DATA / "atliq",
    "food_delivery": DATA / "food_delivery",
    "instacart": DATA / "instacart",
    "segwise": DATA / "segwise",
    "customer_personality": DATA / "customer_personality" / "marketing_campaign.csv",
}


def with_bom(src: Path, dst: Path, encoding: str) -> None:
    """The same text as a UTF-8 file with a byte-order mark (gzip kept)."""
    opener = gzip.open if src.name.endswith(".gz") else open
    with opener(src, "rb") as f:
        text = f.read().decode(encoding)
    with opener(dst, "wb") as f:
        f.write(text.encode("utf-8-sig"))


def test_the_samples_cover_every_layout():
    assert set(SAMPLES) == set(layouts.available())


@pytest.mark.parametrize("layout", sorted(SAMPLES))
def test_a_utf8_bom_is_accepted_under_every_layout(fresh_warehouse_url, tmp_path, layout):
    sample = SAMPLES[layout]
    encoding = layouts.get(layout).sources[next(iter(layouts.get(layout).sources))].format
    files = sorted(sample.iterdir()) if sample.is_dir() else [sample]
    bom_dir = tmp_path / "bom"
    bom_dir.mkdir()
    for f in files:
        if f.is_file():
            with_bom(f, bom_dir / f.name, encoding.encoding)
    plain = ingest.load_paths(fresh_warehouse_url, [sample], layout=layout)
    bom = ingest.load_paths(fresh_warehouse_url, [bom_dir], layout=layout)
    assert bom.status == "succeeded", bom.message
    assert (bom.rows_read, bom.rows_rejected) == (plain.rows_read, plain.rows_rejected)
    # the same values: every line is one the plain files already loaded
    assert bom.rows_duplicate == plain.rows_loaded and bom.rows_loaded == 0


def test_utf8_text_under_a_latin1_layout_is_read_as_utf8(warehouse_url, tmp_path):
    f = tmp_path / "utf8.csv"
    f.write_bytes(
        (HEADER + "995001,CAFE1,CAFÉ CRÈME Ø,6,12/1/2010 8:26,2.55,17850,France\n").encode()
    )
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded"
    assert query(
        warehouse_url, "SELECT product_name FROM warehouse.dim_product WHERE product_id = 'CAFE1'"
    ) == [("CAFÉ CRÈME Ø",)]
    [(files,)] = query(
        warehouse_url, "SELECT files FROM staging.load_batches WHERE batch_id = %s", (r.batch_id,)
    )
    assert files[0]["encoding"] == "utf-8"


def test_latin1_text_stays_latin1(warehouse_url, tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes(
        (HEADER + "995002,CAFE2,CAFÉ CRÈME,6,12/1/2010 8:26,2.55,17850,France\n").encode("latin-1")
    )
    r = ingest.load_paths(warehouse_url, [f], layout="online_retail")
    assert r.status == "succeeded"
    assert query(
        warehouse_url, "SELECT product_name FROM warehouse.dim_product WHERE product_id = 'CAFE2'"
    ) == [("CAFÉ CRÈME",)]


@pytest.mark.parametrize("encoding", ["rot13", "base64", "no-such-codec"])
def test_an_unusable_encoding_is_refused_when_the_mapping_is_checked(tmp_path, encoding):
    m = tmp_path / "enc.yml"
    m.write_text(f"extends: online_retail\nname: enc_map\nformat: {{encoding: {encoding}}}\n")
    with pytest.raises(ConfigurationError, match=rf"format\.encoding: .*{encoding}"):
        mappingmod.load_mapping_file(m)
