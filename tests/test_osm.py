"""Reading extracts in every format, clipping to an area, and bad input."""

from __future__ import annotations

import bz2
import gzip
import itertools
import re
import shutil
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely

from circles.errors import CirclesError, EmptyAreaError, InputError
from circles.messages import language
from circles.sources.cache import load
from circles.sources.coords import to_wgs84
from circles.sources.divisions import find_division
from circles.sources.office_files import read_grid, with_header
from circles.sources.osm import check_extract, parse_area, read_extract
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
    other = read_extract(path, KEYS, area=chengdu_xml.read_area)
    assert len(other.ways.segments) == len(chengdu_xml.ways.segments)
    assert len(other.features) == len(chengdu_xml.features)


def test_bbox_clips_network_and_features(chengdu_xml):
    small = read_extract(need(CHENGDU), KEYS, area="104.07,30.67,104.09,30.69")
    assert 0 < len(small.ways.segments) < len(chengdu_xml.ways.segments) / 4
    box = shapely.box(104.07, 30.67, 104.09, 30.69)
    assert small.features.intersects(box).all()


def test_area_outside_extract_is_refused():
    with pytest.raises(
        EmptyAreaError, match=r"位于OSM数据文件“chengdu_central_osmconvert_2018\.osm”之外"
    ):
        read_extract(need(CHENGDU), KEYS, area="116.3,39.9,116.4,40.0")


def test_missing_corrupt_and_wrong_type_files(tmp_path):
    with pytest.raises(InputError, match="找不到 OSM 文件"):
        read_extract(tmp_path / "nope.osm.pbf", KEYS)
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x01not a pbf at all" * 50)
    with pytest.raises(InputError, match="无法读取此 OSM 文件"):
        read_extract(bad, KEYS)
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match="不支持的文件类型"):
        read_extract(txt, KEYS)
    truncated = tmp_path / "cut.osm"
    truncated.write_bytes(need(CHENGDU).read_bytes()[:5000])
    with pytest.raises(InputError, match="无法读取此 OSM 文件"):
        read_extract(truncated, KEYS)


def test_parse_area_bad_bbox_and_polygon_file(tmp_path):
    with pytest.raises(InputError, match="最小值小于最大值"):
        parse_area("104.1,30.7,104.0,30.6")
    with pytest.raises(InputError, match="既不是范围框"):
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


TRICKY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <bounds minlat="29.9" minlon="103.9" maxlat="30.3" maxlon="104.3"/>
  <node id="1" version="1" timestamp="2019-03-04T05:06:07Z" lat="30.1" lon="104.1"/>
  <node id="2" lat="30.1000000" lon="104.2000000"/>
  <node id="3" lat="30.0000001" lon="104.0000001">
    <tag k="amenity" v="pharmacy"/><tag k="name" v="药店, 1=2 %x"/></node>
  <node id="4" lat="30" lon="104"/>
  <node id="12345678901" lat="30.15" lon="104.15"/>
  <way id="10" version="1" timestamp="2020-01-02T03:04:05Z">
    <nd ref="1"/><nd ref="99"/><nd ref="2"/><nd ref="3"/><nd ref="12345678901"/>
    <nd ref="12345678901"/><nd ref="4"/>
    <tag k="highway" v="footway"/><tag k="name" v="人民路, a=b %x @y"/>
    <tag k="name:zh" v="人民路"/><tag k="sidewalk:both" v="yes"/></way>
  <way id="11" version="1"><tag k="highway" v="footway"/></way>
  <way id="12" version="1"><nd ref="2"/><nd ref="4"/><tag k="building" v="yes"/></way>
</osm>
"""


def test_reader_edge_cases(tmp_path):
    """Missing nodes, escaped tag text, integer coordinates, big ids, repeated nodes."""
    path = tmp_path / "tricky.osm"
    path.write_text(TRICKY, encoding="utf-8")
    extract = read_extract(path, KEYS, area="103.95,29.95,104.25,30.25")
    assert extract.ways.way_ids.tolist() == [10, 11]
    assert extract.ways.tags[0] == {
        "highway": "footway",
        "sidewalk:both": "yes",
        "name": "人民路, a=b %x @y",
    }
    # node 99 is missing: the way breaks there; the repeated node makes no segment
    assert extract.ways.segments.tolist() == [[2, 3], [3, 12345678901], [12345678901, 4]]
    assert extract.ways.segment_way.tolist() == [0, 0, 0]
    assert extract.ways.node_ids.tolist() == [2, 3, 4, 12345678901]
    assert extract.ways.node_lonlat.tolist() == [
        [104.2, 30.1],
        [104.0000001, 30.0000001],
        [104.0, 30.0],
        [104.15, 30.15],
    ]
    assert extract.features["name"].tolist() == ["药店, 1=2 %x"]
    assert extract.data_date == "2020-01-02"


def test_reader_matches_a_plain_pyosmium_pass(chengdu_xml):
    """The bulk (OPL) reader sees the same ways, nodes and locations as pyosmium objects."""
    ways, refs, lonlat = [], [], {}
    processor = osmium.FileProcessor(str(CHENGDU)).with_locations()
    for way in processor.with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)):
        if "highway" in way.tags:
            ways.append(way.id)
            nodes = [(n.ref, n.location) for n in way.nodes]
            refs.append([r if loc.valid() else -1 for r, loc in nodes])
            lonlat.update({r: (loc.lon, loc.lat) for r, loc in nodes if loc.valid()})
    assert chengdu_xml.ways.way_ids.tolist() == ways

    def inside(ref: int) -> bool:
        return ref >= 0 and shapely.contains_xy(chengdu_xml.read_area, *lonlat[ref])

    expected = sorted(
        (w, a, b)
        for w, way_refs in enumerate(refs)
        for a, b in itertools.pairwise(way_refs)
        if a >= 0 and b >= 0 and a != b and (inside(a) or inside(b))
    )
    got = sorted(
        (w, a, b)
        for w, (a, b) in zip(
            chengdu_xml.ways.segment_way, chengdu_xml.ways.segments.tolist(), strict=True
        )
    )
    assert got == expected
    located = np.array([lonlat[r] for r in chengdu_xml.ways.node_ids])
    np.testing.assert_array_equal(chengdu_xml.ways.node_lonlat, located)


# -- the language of errors -----------------------------------------------------------------

# what a message may show in Latin letters: formats, tools, options, datums, the cache variable
TOKENS = {
    "OSM", "CRS", "EPSG", "UTF", "GBK", "CSV", "YAML", "GeoJSON", "GeoPackage", "Shapefile",
    "osmium", "tool", "openstreetmap", "org", "osm", "pbf", "bz2", "circles", "FILE",
    "CIRCLES_CACHE_DIR", "minlon", "minlat", "maxlon", "maxlat", "wgs84", "gcj02", "bd09", "GPS",
}  # fmt: skip


def english_left(text: str) -> list[str]:
    """Runs of 3+ ASCII letters outside paths, option names and quoted values, not in TOKENS."""
    text = re.sub(r"\S*/\S*|--[\w-]+|“[^”]*”", " ", text)
    return [w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in TOKENS]


def _source_errors(tmp_path, monkeypatch) -> dict[str, Callable[[], object]]:
    """Calls that fail, one per message of circles.sources, by name."""
    empty = tmp_path / "empty.osm"
    empty.write_text('<osm version="0.6"></osm>', encoding="utf-8")
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(104, 30)], crs="EPSG:4326").to_file(points)
    no_crs = tmp_path / "no_crs.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]).to_file(no_crs)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"a,b\n\xff\x80,\x80\n")
    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "extract-k.npz").mkdir(parents=True)
    return {
        "not found": lambda: read_extract(tmp_path / "nope.osm.pbf", KEYS),
        "directory": lambda: check_extract(tmp_path),
        "file type": lambda: check_extract(latin),
        "no nodes": lambda: check_extract(empty),
        "bad bbox": lambda: parse_area("104.1,30.7,104.0,30.6"),
        "not an area": lambda: parse_area("somewhere.geojson"),
        "no polygon": lambda: parse_area(points),
        "outside": lambda: read_extract(need(CHENGDU), KEYS, area="116.3,39.9,116.4,40.0"),
        "no crs": lambda: parse_area(no_crs),
        "bad --crs": lambda: to_wgs84(np.array([1.0]), np.array([2.0]), "gcj-03"),
        "not UTF-8 nor GBK": lambda: read_grid(latin),
        "cache folder": lambda: load("extract", "k", lambda arrays, meta: None),
        "no district": lambda: find_division("不存在区"),
        "many districts": lambda: find_division("鼓楼区"),
    }


def test_source_errors_are_in_chinese(tmp_path, monkeypatch):
    for name, fails in _source_errors(tmp_path, monkeypatch).items():
        with pytest.raises(CirclesError) as err:
            fails()
        text = str(err.value)
        assert english_left(text) == [], (name, text)
        assert re.search("[：。]", text), (name, text)


def test_source_errors_keep_their_english_wording(tmp_path, monkeypatch):
    fails = _source_errors(tmp_path, monkeypatch)
    expected = {
        "not found": "nope.osm.pbf: OSM file not found. Check the path given to --osm.",
        "directory": ": is a directory, expected an OSM file (.osm, .osm.pbf, .pbf, .osm.bz2, "
        ".osm.gz).",
        "no nodes": "empty.osm: the file holds no OSM nodes. Is it an empty export?",
        "bad bbox": "--area '104.1,30.7,104.0,30.6': expected minlon,minlat,maxlon,maxlat in "
        "degrees with min < max (e.g. 104.05,30.66,104.10,30.70).",
        "no polygon": "points.geojson: the area file holds no polygon; expected the study area's "
        "boundary.",
        "outside": "lies outside the extract chengdu_central_osmconvert_2018.osm, whose data "
        "covers (",
        "no crs": "no_crs.shp: the area file has no CRS; save it with one (e.g. EPSG:4326).",
        "bad --crs": "--crs 'gcj-03': expected one of wgs84, gcj02, bd09 or an EPSG code like "
        "EPSG:4490.",
        "not UTF-8 nor GBK": "latin.csv: neither UTF-8 nor GBK/GB18030 text. Save it as UTF-8 CSV.",
        "cache folder": ": a folder stands where a circles cache entry belongs. Remove it, or set "
        "CIRCLES_CACHE_DIR to another folder, or run with --no-cache.",
        "no district": "--district '不存在区': no such district, county or city in China's "
        "administrative divisions.",
        "many districts": "--district '鼓楼区' names ",
    }
    for name, wording in expected.items():
        with language("en"), pytest.raises(CirclesError) as err:
            fails[name]()
        assert wording in str(err.value), str(err.value)


def test_a_blank_header_cell_is_named_by_its_column():
    grid = pd.DataFrame([["名称", np.nan], ["甲", "1"]], dtype=object)
    assert list(with_header(grid, 0).columns) == ["名称", "第2列（无表头）"]
    with language("en"):
        assert list(with_header(grid, 0).columns) == ["名称", "Unnamed: 1"]
