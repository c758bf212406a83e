"""Scenarios and `circles compare`: a plan's numbers equal a fresh analysis with the plan
applied to the facility inputs, on the real Chengdu extract with the planner's files."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from circles import analyze
from circles.cli import main
from circles.errors import InputError
from circles.messages import language
from circles.planning.plan_file import read_plan, read_plan_datum
from circles.planning.saved import load_analysis
from circles.planning.scenario import MAX_ACTIONS, Action, load_base, run_scenario
from circles.present.tables import write_outputs
from circles.sources.planner_files import read_boundaries, read_facilities
from conftest import CHENGDU, need

SAMPLES = CHENGDU.parents[1] / "planner-samples"
CHILDCARE = f"{SAMPLES / '托育机构.csv'}::crs=gcj02"
MEALS = f"{SAMPLES / '老年助餐点.xlsx'}::category=elderly_meal,crs=gcj02"
INPUTS = {"communities": SAMPLES / "社区.geojson", "boundaries": SAMPLES / "街道.shp"}
SITES = [(104.08, 30.69), (104.1, 30.675), (104.063, 30.707)]
MEASURES = ["value", "status", "shortfall", "median_time_min", "worst_time_min", "facilities"]


def _records(spec, standards):
    """A planner file's records: category, name, capacity and WGS-84 point."""
    return read_facilities(spec, standards)[["category_id", "name", "capacity", "geometry"]]


def _as_file(records, path):
    """Records written as a planner's CSV (WGS-84; ids from the rows)."""
    frame = pd.DataFrame(
        {
            "category": records["category_id"],
            "name": records["name"],
            "capacity": records["capacity"],
            "lon": records.geometry.x,
            "lat": records.geometry.y,
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8")
    return f"{path}::crs=wgs84"  # a table in China says its datum


@pytest.fixture(scope="module")
def planned(tianjin, tmp_path_factory):
    """Chengdu under Tianjin's profile (access, presence, supply and coverage rules) with the
    planner's communities (60+ counts), streets, childcare and meal points; saved, and loaded
    as a scenario base."""
    standards = tianjin
    if not INPUTS["communities"].exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    records = {c: _records(s, standards) for c, s in (("childcare", CHILDCARE), ("meal", MEALS))}
    folder = tmp_path_factory.mktemp("planned")
    files = [_as_file(r, folder.parent / f"{c}.csv") for c, r in records.items()]
    before = analyze(need(CHENGDU), standards=standards, facilities=files, **INPUTS)
    write_outputs(before, folder)
    streets = read_boundaries(INPUTS["boundaries"])
    base = load_base(load_analysis(folder), streets[streets["level"] == "street"])
    return base, before, records, folder


def _planner_row(base, category, k):
    """The ``k``-th facility of a category that only the planner's file holds."""
    fac = base.facilities
    rows = fac[(fac["category_id"] == category) & (fac["source"] == "planner")]
    return rows.iloc[k]


def _same_records(records, row):
    """Which records of a planner's file are the facility ``row`` (by its name)."""
    return (records["name"] == row["name"]).to_numpy()


def _assert_equal_to(result, fresh):
    """Every row of the scenario's "after" equals the fresh analysis's row for that unit (all
    but the access rules per street, which ``analyze`` does not report)."""
    want = fresh.results.set_index(["unit_level", "unit_id", "rule_id"])
    table = result.table
    extra = (table["unit_level"] == "street") & (table["kind"] == "access")
    got = table[~extra].set_index(["unit_level", "unit_id", "rule_id"])
    assert got.index.isin(want.index).all()
    assert len(got) > 100
    for measure in MEASURES:
        a, b = got[f"{measure}_after"], want.loc[got.index, measure]
        if measure == "status":
            assert (a.to_numpy() == b.to_numpy()).all(), measure
        else:
            a, b = pd.to_numeric(a).to_numpy(float), pd.to_numeric(b).to_numpy(float)
            bad = ~np.isclose(a, b, atol=1e-6, equal_nan=True)
            assert not bad.any(), (measure, got.index[bad].tolist()[:5], a[bad][:5], b[bad][:5])


def test_adds_closes_and_a_move_equal_a_fresh_analysis(planned, tianjin, tmp_path):
    standards = tianjin
    base, before, records, _ = planned
    closed = _planner_row(base, "childcare", 0)
    moved = _planner_row(base, "childcare", 1)
    meal_closed = _planner_row(base, "elderly_meal", 0)
    plan = [
        Action("新增", "托育机构（3岁以下）", *SITES[0], name="规划托育点甲", capacity=40),
        Action("add", "elderly_meal", *SITES[1], name="规划助餐点乙"),
        Action("关闭", facility_id=closed["facility_id"]),
        Action("close", facility_id=meal_closed["facility_id"]),
        Action("迁移", lon=SITES[2][0], lat=SITES[2][1], facility_id=moved["facility_id"]),
    ]
    result = run_scenario(base, plan)
    childcare = records["childcare"][~_same_records(records["childcare"], closed)].copy()
    at = _same_records(childcare, moved)
    assert at.sum() == 1 and _same_records(records["childcare"], closed).sum() == 1
    childcare.loc[at, "geometry"] = shapely.Point(*SITES[2])
    meals = records["meal"][~_same_records(records["meal"], meal_closed)]
    added = gpd.GeoDataFrame(
        {
            "category_id": ["childcare", "elderly_meal"],
            "name": ["规划托育点甲", "规划助餐点乙"],
            "capacity": [40.0, np.nan],
        },
        geometry=[shapely.Point(*SITES[0]), shapely.Point(*SITES[1])],
        crs=4326,
    )
    files = [_as_file(r, tmp_path / f"{c}.csv") for c, r in (("c", childcare), ("m", meals))]
    fresh = analyze(need(CHENGDU), standards=standards, facilities=[*files, added], **INPUTS)
    _assert_equal_to(result, fresh)
    rules = set(result.table["rule_id"])
    assert rules == {
        r.id for r in standards.rules if standards.category_of(r) in ("childcare", "elderly_meal")
    }
    # "before" is the saved analysis itself
    old = before.results.set_index(["unit_level", "unit_id", "rule_id"])
    got = result.table.set_index(["unit_level", "unit_id", "rule_id"])
    shared = got.index.intersection(old.index)
    assert (got.loc[shared, "status_before"] == old.loc[shared, "status"]).all()
    assert (result.table["change"].fillna(0) != 0).any()


def test_added_sites_alone_equal_a_fresh_analysis(planned, standards, chengdu, tmp_path):
    """Adds take the fast path (old distances against searches from the sites)."""
    write_outputs(chengdu, tmp_path)
    base = load_base(load_analysis(tmp_path))
    result = run_scenario(base, [Action("add", "supermarket", lon, lat) for lon, lat in SITES])
    sites = gpd.GeoDataFrame(
        {"category_id": ["supermarket"] * 3, "name": [f"规划超市{i}" for i in range(3)]},
        geometry=[shapely.Point(p) for p in SITES],
        crs=4326,
    )
    fresh = analyze(need(CHENGDU), standards=standards, facilities=[sites])
    _assert_equal_to(result, fresh)
    district = result.district().iloc[0]
    assert district["value_after"] > district["value_before"]


def _edited_extract(path, tmp_path, closed, moved, to):
    """A copy of an OSM extract without the tags of node ``closed`` (no longer a facility)
    and with node ``moved`` placed at ``to``."""
    text = path.read_text(encoding="utf-8")
    block = re.compile(rf'(<node id="{closed}"[^>]*>).*?(</node>)', re.DOTALL)
    text, n_closed = block.subn(lambda m: m.group(1)[:-1] + "/>", text)
    place = re.compile(rf'<node id="{moved}" lat="[^"]*" lon="[^"]*"')
    text, n_moved = place.subn(f'<node id="{moved}" lat="{to[1]}" lon="{to[0]}"', text)
    assert n_closed == n_moved == 1
    out = tmp_path / path.name
    out.write_text(text, encoding="utf-8")
    return out


def test_closing_and_moving_osm_facilities_equal_an_edited_extract(chengdu, standards, tmp_path):
    """An OSM supermarket closed and another moved equal a fresh analysis of the extract
    with the first's tags removed and the second node moved (the category then counts as
    checked by the planner, as the scenario counts it)."""
    write_outputs(chengdu, tmp_path / "a")
    base = load_base(load_analysis(tmp_path / "a"))
    plan = [
        Action("close", facility_id="osm:node/1695929995"),
        Action("move", "supermarket", *SITES[2], facility_id="osm:node/1949082466"),
        Action("add", "超市", *SITES[1]),
    ]
    result = run_scenario(base, plan)
    osm = _edited_extract(need(CHENGDU), tmp_path, 1695929995, 1949082466, SITES[2])
    added = gpd.GeoDataFrame(
        {"category_id": ["supermarket"], "name": ["规划超市"]},
        geometry=[shapely.Point(*SITES[1])],
        crs=4326,
    )
    fresh = analyze(osm, standards=standards, facilities=[added], authoritative=["supermarket"])
    _assert_equal_to(result, fresh)
    district = result.district().iloc[0]
    assert district["facilities_after"] == district["facilities_before"]
    assert (result.table["change"].fillna(0) != 0).sum() > 5


def test_closing_the_only_facility_leaves_gaps(tianjin, tmp_path):
    """One meal point (the planner's) is the category's only facility: closing it turns every
    community it served into a gap, never into "no data"; so does closing Chengdu's only
    OSM childcare facility."""
    meal = gpd.GeoDataFrame(
        {"category_id": ["elderly_meal"], "name": ["唯一助餐点"]},
        geometry=[shapely.Point(*SITES[0])],
        crs=4326,
    )
    write_outputs(analyze(need(CHENGDU), standards=tianjin, facilities=[meal]), tmp_path)
    base = load_base(load_analysis(tmp_path))
    only = base.facilities.groupby("category_id")["facility_id"].agg(list)
    assert len(only["elderly_meal"]) == len(only["childcare"]) == 1
    plan = [Action("close", facility_id=only[c][0]) for c in ("elderly_meal", "childcare")]
    table = run_scenario(base, plan).table
    access = table[table["kind"] == "access"]
    judged = access[access["status_after"] != "not_evaluated"]
    assert len(judged) > 200
    assert (judged["status_after"] == "fail").all()
    assert (judged["value_after"] == 0).all() and (judged["facilities_after"] == 0).all()
    meals = judged[judged["rule_id"] == "elderly_meal_15min_elderly"]
    assert (meals["status_before"] == "pass").any() and (meals["value_before"] > 0).any()


def test_a_category_without_rules_changes_no_row(chengdu, tmp_path):
    """The national profile has no rule on elderly canteens: the plan is checked and applied,
    and no row changes."""
    write_outputs(chengdu, tmp_path)
    base = load_base(load_analysis(tmp_path))
    result = run_scenario(base, [Action("add", "elderly_meal", *SITES[0])])
    assert result.table.empty and len(result.added) == 1


def test_street_rows_judge_each_streets_residents(planned):
    base, *_ = planned
    result = run_scenario(base, [Action("add", "elderly_meal", *SITES[0])])
    streets = result.table[result.table["unit_level"] == "street"]
    assert set(streets["unit_id"]) == set(base.streets["unit_id"])
    assert streets["population"].sum() <= base.demand["population"].sum() + 1e-6
    assert streets["population"].sum() > 0.9 * base.demand["population"].sum()


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (Action("add", "超级市场", *SITES[0]), "未知类别“超级市场”。是否指“"),
        (Action("add", "supermarket", 120.0, 30.0), "位于分析范围之外"),
        (Action("add", "supermarket", "x", 30.0), "新增需要数值形式的经度和纬度"),
        (Action("close"), "关闭需要 facility_id"),
        (Action("move", lon=104.08, lat=30.69), "迁移需要 facility_id"),
        (Action("close", facility_id="osm:node/1"), "未知 facility_id“osm:node/1”"),
        (Action("demolish", "supermarket"), "未知操作“demolish”"),
        (Action("add", None, *SITES[0]), "缺少类别"),
    ],
)
def test_bad_actions_are_named(planned, action, message):
    base, *_ = planned
    with pytest.raises(InputError, match=message) as err:
        run_scenario(base, [Action("add", "supermarket", *SITES[1]), action])
    assert str(err.value).startswith("第 2 项操作：")
    allowed = {"facility_id", "osm", "node", "demolish", "add", "close", "move", "crs", "wgs84"}
    allowed |= {"gcj02", "bd09"}
    allowed |= set(base.saved.standards.category_ids)
    assert set(re.findall(r"[A-Za-z_][\w]{2,}", str(err.value))) <= allowed  # no English left


def test_bad_actions_in_english(planned):
    base, *_ = planned
    fid = _planner_row(base, "childcare", 0)["facility_id"]
    plan = [Action("add", "超级市场", *SITES[0]), Action("close", "supermarket", facility_id=fid)]
    with language("en"), pytest.raises(InputError) as err:
        run_scenario(base, plan)
    assert str(err.value).splitlines() == [
        "2 bad actions in the plan:",
        "action 1: unknown category '超级市场'. Did you mean '超市' (supermarket)?",
        f"action 2: facility {fid!r} is a childcare, not a supermarket.",
    ]
    with pytest.raises(InputError) as err:
        run_scenario(base, plan)
    assert (
        str(err.value).splitlines()[2]
        == f"第 2 项操作：设施“{fid}”属于托育机构（3岁以下），不是超市。"
    )


def test_a_facility_closed_twice_and_too_many_actions(planned):
    base, *_ = planned
    fid = _planner_row(base, "childcare", 0)["facility_id"]
    with pytest.raises(InputError, match="已被关闭或迁移"):
        run_scenario(base, [Action("close", facility_id=fid), Action("move", None, *SITES[0], fid)])
    with pytest.raises(InputError, match=f"一次最多评判 {MAX_ACTIONS:,} 项"):
        run_scenario(base, [Action("add", "supermarket", *SITES[0])] * (MAX_ACTIONS + 1))


def test_plan_file_rows_and_datums(planned, tmp_path):
    base, *_ = planned
    plan = tmp_path / "方案.csv"
    fid = _planner_row(base, "childcare", 0)["facility_id"]
    plan.write_text(
        "操作,设施类别,高德经度,高德纬度,名称,facility_id\n"
        "新增,超市,104.082,30.688,规划超市,\n"
        f"关闭,,,,,{fid}\n",
        encoding="utf-8",
    )
    actions = read_plan(plan)
    assert [a.kind for a in actions] == ["新增", "关闭"]
    assert actions[0].lon != 104.082  # 高德 (GCJ-02) columns are converted to WGS-84
    assert actions[1].label == f"“{plan}”第 3 行"
    with language("en"):
        assert read_plan(plan)[1].label == f"{plan}, row 3"
    bad = tmp_path / "bad.csv"
    bad.write_text("action,category,lon,lat\nadd,supermarkt,104.08,30.69\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"“{re.escape(str(bad))}”第 2 行：未知类别"):
        run_scenario(base, read_plan(bad, crs="wgs84"))
    no_action = tmp_path / "no_action.csv"
    no_action.write_text("category,lon,lat\nsupermarket,104.08,30.69\n", encoding="utf-8")
    with pytest.raises(InputError, match="没有操作列"):
        read_plan(no_action)
    many = tmp_path / "many.csv"
    many.write_text("action,category,lon,lat\n" + "add,supermarket,104.08,30.69\n" * 1001)
    with pytest.raises(InputError, match="一次最多评判 1,000 项"):
        read_plan(many)


def test_cli_compare_writes_a_new_folder_each_run(planned, tmp_path):
    base, _, _, folder = planned
    plan = tmp_path / "plan.csv"
    fid = _planner_row(base, "childcare", 0)["facility_id"]
    plan.write_text(
        f"action,category,lon,lat,facility_id\nadd,childcare,104.08,30.69,\nclose,,,,{fid}\n"
    )
    runner = CliRunner()
    args = ["compare", "--analysis", str(folder), "--plan", str(plan), "--crs", "wgs84"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, args)
    assert second.exit_code == 0, second.output
    for out in (folder / "compare", folder / "compare-2"):
        table = pd.read_csv(out / "compare.csv", encoding="utf-8-sig")
        assert {"层级", "现状值", "规划后值", "现状结果", "规划后结果"} <= set(table.columns)
        assert {"区", "街道", "社区"} <= set(table["层级"])
        assert table["缺口单位"].notna().all() and table["规划后值"].notna().any()
        page = (out / "compare_map.html").read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", page)
        assert not re.search(r"<link[^>]+href=[\"']https?:", page)
        assert "tile.openstreetmap" not in page
        tooltips = re.findall(r'bindTooltip\("([^"]*)"', page)
        shown = [json.loads(f'"{t}"') for t in tooltips]  # sites named by category, in Chinese
        assert any(t.startswith("<div>托育机构（3岁以下） ") for t in shown), shown
        with pd.ExcelFile(out / "compare.xlsx") as book:
            assert book.sheet_names == ["区", "街道", "社区", "方案"]
    into = runner.invoke(main, [*args, "--out", str(folder)])
    assert into.exit_code == 2 and "会覆盖分析结果文件夹" in into.output
    assert (folder / "access.npz").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("action,category,lon,lat\nadd,supermarket,120.0,30.0\n")
    failed = runner.invoke(
        main, ["compare", "--analysis", str(folder), "--plan", f"{bad}::crs=wgs84"]
    )
    assert failed.exit_code == 2
    assert "第 2 行：选址 120.000000,30.000000 位于分析范围之外" in failed.output


def test_a_plan_in_china_must_say_its_datum(planned, tmp_path):
    base, _, _, folder = planned
    fid = _planner_row(base, "childcare", 0)["facility_id"]
    plain = tmp_path / "方案.csv"
    plain.write_text(f"操作,类别,经度,纬度,facility_id\n新增,超市,104.08,30.69,\n关闭,,,,{fid}\n")
    before = sorted(folder.iterdir())
    failed = CliRunner().invoke(main, ["compare", "--analysis", str(folder), "--plan", str(plain)])
    assert failed.exit_code == 2
    assert "方案.csv" in failed.output
    assert all(datum in failed.output for datum in ("gcj02", "bd09", "wgs84"))
    assert sorted(folder.iterdir()) == before  # nothing written
    closing = tmp_path / "关闭.csv"
    closing.write_text(f"操作,facility_id\n关闭,{fid}\n")
    actions, datum = read_plan_datum(closing)  # closing needs no coordinates, so no datum
    assert [a.kind for a in actions] == ["关闭"] and datum is None
    assert read_plan_datum(f"{plain}::crs=gcj02")[1] == "gcj02"
