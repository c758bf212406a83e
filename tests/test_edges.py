"""No edge effects, and numbers that mean one thing: the study area, the units at the extract's
edge, facility counts, shortfall units and numeric layer columns."""

from __future__ import annotations

import openpyxl
import pyogrio
import shapely
from click.testing import CliRunner

from circles import analyze
from circles.cli import main
from circles.present.tables import write_outputs
from conftest import CHENGDU, need


def test_without_area_the_edge_band_is_left_out_and_listed(chengdu, standards):
    edge = chengdu.summary["edge_units"]
    assert edge["count"] > 0 and len(edge["units"]) == edge["count"]
    assert any("边缘（未评估）" in w for w in chengdu.warnings)
    band = standards.threshold_m(standards.access_rules()[0])  # any threshold is below the buffer
    study = chengdu.study_area_m
    read = chengdu.network.to_crs(chengdu.crs).union_all().convex_hull
    assert study.area < read.area, "the study area is the extract shrunk by the buffer"
    assert band > 0
    whole = analyze(need(CHENGDU), standards=standards, buffer_m=0)
    assert whole.summary["edge_units"]["count"] == 0
    assert len(whole.communities) > len(chengdu.communities)


def test_partly_outside_warning_counts_the_study_area_not_the_buffer(standards):
    inside = analyze(need(CHENGDU), area="104.07,30.67,104.08,30.68", standards=standards)
    assert not any("位于数据文件" in w for w in inside.warnings)
    _, miny, maxx, _ = shapely.box(*inside.summary["extract_bounds_wgs84"]).bounds
    half = f"{maxx - 0.01},{miny + 0.01},{maxx + 0.01},{miny + 0.03}"
    partly = analyze(need(CHENGDU), area=half, standards=standards)
    warning = next(w for w in partly.warnings if "位于数据文件" in w)
    assert warning.startswith(("研究范围只有5", "研究范围只有4")), warning


def test_facility_counts_in_area_and_buffer(chengdu):
    for cat in chengdu.summary["categories"]:
        mine = chengdu.facilities[chengdu.facilities["category_id"] == cat["category_id"]]
        assert cat["facilities"] == int(mine["in_area"].sum())
        assert cat["facilities_in_buffer"] == int((~mine["in_area"]).sum())


def test_shortfall_unit_is_the_population_counted(chengdu):
    res = chengdu.results
    kindergarten = res[res["rule_id"] == "kindergarten_300m"]  # counts children where known
    assert set(kindergarten["shortfall_unit"]) == {"residents"}, "no child counts: all residents"
    assert kindergarten["note"].str.contains("按全部居民计").all()


def test_rule_columns_of_the_communities_layer_are_numeric(tmp_path):
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["analyze", "--osm", str(need(CHENGDU)), "--out", str(out)])
    assert run.exit_code == 0, run.output
    info = pyogrio.read_info(out / "analysis.gpkg", layer="communities")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["kindergarten_300m.value"] == "float64"
    assert types["kindergarten_300m.shortfall"] == "float64"
    assert types["kindergarten_300m.status"] == "object"


def test_no_reported_walk_exceeds_the_search_limit(chengdu, standards):
    for cat_id in standards.category_ids:
        dist = chengdu.demand_points[f"dist_m.{cat_id}"].dropna()
        assert (dist <= standards.search_limit_m(cat_id) + 1e-9).all(), cat_id


def test_edge_units_are_listed_in_gaps_xlsx(chengdu, standards, tmp_path):
    write_outputs(chengdu, tmp_path / "zh")
    book = openpyxl.load_workbook(tmp_path / "zh" / "gaps.xlsx", read_only=True)
    assert "边缘（未评估）" in book.sheetnames
    rows = list(book["边缘（未评估）"].iter_rows(values_only=True))
    assert rows[0] == ("编号", "名称", "原因")
    units = chengdu.summary["edge_units"]["units"]
    assert [r[0] for r in rows[1:]] == [u["community_id"] for u in units]
    assert [r[1] or None for r in rows[1:]] == [u["name"] for u in units]
    assert all(r[2].startswith("边缘（未评估）") for r in rows[1:])
    english = analyze(need(CHENGDU), standards=standards, lang="en")
    write_outputs(english, tmp_path / "en")
    book = openpyxl.load_workbook(tmp_path / "en" / "gaps.xlsx", read_only=True)
    rows = list(book["Edge units"].iter_rows(values_only=True))
    assert rows[0] == ("id", "name", "reason") and len(rows) == len(units) + 1
    assert rows[1][2].startswith("edge (not evaluated)")
    whole = analyze(need(CHENGDU), standards=standards, buffer_m=0)
    write_outputs(whole, tmp_path / "whole")
    book = openpyxl.load_workbook(tmp_path / "whole" / "gaps.xlsx", read_only=True)
    assert not any(name.startswith("边缘") for name in book.sheetnames)
