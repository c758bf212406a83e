"""Reading extracts in every format, clipping to an area, and bad input."""

from __future__ import annotations

import bz2
import gzip
import shutil

import pytest
import shapely

from circles.errors import EmptyAreaError, InputError
from circles.osm import parse_area, read_extract
from conftest import CHENGDU, need

KEYS = {"amenity", "shop", "building", "landuse", "name"}


@pytest.fixture(scope="module")
def chengdu_xml():
    return read_extract(need(CHENGDU), KEYS)


@pytest.mark.parametrize("fmt", ["pbf", "gz", "bz2"])
def test_formats_read_the_same_data(fmt, tmp_path, chengdu_xml):
    src = need(CHENGDU)
    if fmt == "pbf":
        path = src.with_name(src.name + ".pbf")
        need(path)
    else:
        path = tmp_path / f"{src.name}.{fmt}"
        opener = gzip.open if fmt == "gz" else bz2.open
        with src.open("rb") as fin, opener(path, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    other = read_extract(path, KEYS, area=chengdu_xml.area)
    assert len(other.segments) == len(chengdu_xml.segments)
    assert len(other.features) == len(chengdu_xml.features)


def test_bbox_clips_network_and_features(chengdu_xml):
    small = read_extract(need(CHENGDU), KEYS, area="104.07,30.67,104.09,30.69")
    assert 0 < len(small.segments) < len(chengdu_xml.segments) / 4
    box = shapely.box(104.07, 30.67, 104.09, 30.69)
    assert small.features.intersects(box).all()


def test_area_outside_extract_is_refused():
    with pytest.raises(EmptyAreaError, match="lies outside the extract"):
        read_extract(need(CHENGDU), KEYS, area="116.3,39.9,116.4,40.0")


def test_missing_corrupt_and_wrong_type_files(tmp_path):
    with pytest.raises(InputError, match="OSM file not found"):
        read_extract(tmp_path / "nope.osm.pbf", KEYS)
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x01not a pbf at all" * 50)
    with pytest.raises(InputError, match="cannot read this OSM file"):
        read_extract(bad, KEYS)
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match="unsupported file type"):
        read_extract(txt, KEYS)
    truncated = tmp_path / "cut.osm"
    truncated.write_bytes(need(CHENGDU).read_bytes()[:5000])
    with pytest.raises(InputError, match="cannot read this OSM file"):
        read_extract(truncated, KEYS)


def test_parse_area_bad_bbox_and_polygon_file(tmp_path):
    with pytest.raises(InputError, match="min < max"):
        parse_area("104.1,30.7,104.0,30.6")
    with pytest.raises(InputError, match="neither a bounding box"):
        parse_area("somewhere.geojson")
    f = tmp_path / "area.geojson"
    f.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[104.07,30.67],[104.09,30.67],'
        "[104.09,30.69],[104.07,30.67]]]}}]}",
        encoding="utf-8",
    )
    area = parse_area(f)
    assert area.area > 0
