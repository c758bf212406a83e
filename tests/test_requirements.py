"""Issue 13 §2: the requirements added from the seed documents, on small frames and on Chengdu.

Per-capita rules over a count, over planner floor area and per 100 households; presence and
coverage over village units; overlapping polygons counted once; 数据不全 where supply is known
only in part.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from circles import analyze
from circles.errors import StandardsError
from circles.messages import label
from circles.model.facilities import categories_of, exclusive_areas
from circles.rules.evaluate import evaluate_rules
from circles.sources.planner_files import Problems, read_boundaries
from circles.standards import CoverageRateRule, PerCapitaRule, PresenceRule, load_standards
from conftest import CHENGDU, need

SOURCE = {"document": "test", "clause": "test"}
DISTRICT = ("d", "区", box(0, 0, 2000, 1000))
WEST, EAST = box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)


def _rule(kind, **fields):
    base = {"id": "r", "name": {"zh": "规则", "en": "rule"}, "source": SOURCE, "kind": kind}
    return kind_model(kind).model_validate(base | fields)


def kind_model(kind):
    return {"per_capita": PerCapitaRule, "presence": PresenceRule}[kind]


def _frames(population=(10_000, 20_000), households=None):
    """Two communities (west, east), one demand point each."""
    communities = gpd.GeoDataFrame(
        {
            "community_id": ["w", "e"],
            "name": ["西", "东"],
            "population": list(population),
            "population_estimated": False,
        },
        geometry=[WEST, EAST],
    )
    if households is not None:
        communities["households"] = households
    demand = gpd.GeoDataFrame(
        {"community_id": ["w", "e"], "population": list(population), "population_estimated": False},
        geometry=[Point(500, 500), Point(1500, 500)],
    )
    return communities, demand


def _facilities(category, xs, source="osm", **columns):
    return gpd.GeoDataFrame(
        {"category_id": category, "source": source, **columns},
        geometry=[Point(x, 500) for x in xs],
        index=range(len(xs)),
    )


def _run(standards, rules, facilities, frames=None, **boundaries):
    std = standards.model_copy(update={"rules": rules})
    communities, demand = frames or _frames()
    return evaluate_rules(std, communities, demand, facilities, {}, DISTRICT, **boundaries)


def test_football_pitches_per_10k_count_each_pitch(standards):
    rule = _rule("per_capita", category="football_pitch", attribute="count", per=10_000, target=1)
    two = _run(standards, [rule], _facilities("football_pitch", [100, 1500]))
    row = two.iloc[0]
    assert row["status"] == "fail"
    assert row["value"] == pytest.approx(2 / 30_000 * 10_000)
    assert row["shortfall"] == pytest.approx(1)
    assert row["shortfall_unit"] == "facilities"
    three = _run(standards, [rule], _facilities("football_pitch", [100, 1500, 1600]))
    assert three["status"].tolist() == ["pass"]


def test_floor_area_from_osm_alone_is_no_data_never_a_gap(standards):
    rule = _rule(
        "per_capita", category="culture_facility", attribute="floor_area_m2", per=1e4, target=1200
    )
    osm_only = _run(standards, [rule], _facilities("culture_facility", [100, 1500]))
    assert osm_only["status"].tolist() == ["no_data"]
    assert "均无建筑面积数据" in osm_only["note"].iloc[0]  # notes speak the run's language
    assert "不取自OSM" in osm_only["note"].iloc[0]
    assert np.isnan(osm_only["shortfall"].iloc[0])


def test_some_facilities_without_floor_area_is_incomplete_not_a_shortfall(standards):
    rule = _rule(
        "per_capita", category="culture_facility", attribute="floor_area_m2", per=1e4, target=1200
    )
    mixed = _facilities(
        "culture_facility",
        [100, 1500, 1600],
        source=["planner", "planner", "osm"],
        floor_area_m2=[2000, np.nan, np.nan],
    )
    row = _run(standards, [rule], mixed).iloc[0]
    assert row["status"] == "incomplete"
    assert row["value"] == pytest.approx(2000 / 30_000 * 1e4)  # a lower bound
    assert np.isnan(row["shortfall"])
    assert row["facilities"] == 2  # the planner's: OSM gives no floor area
    assert "2处设施中有1处缺少建筑面积" in row["note"]
    assert "1处OSM设施不在规划部门名录中" in row["note"]
    # the known part alone meets the target: a pass whatever the missing one holds
    mixed["floor_area_m2"] = [4000, np.nan, np.nan]
    row = _run(standards, [rule], mixed).iloc[0]
    assert (row["status"], row["shortfall"]) == ("pass", 0)
    # every planner record given: an exact shortfall, the OSM-only one not counted
    mixed["floor_area_m2"] = [2000, 1000, np.nan]
    row = _run(standards, [rule], mixed).iloc[0]
    assert (row["status"], row["shortfall"]) == ("fail", pytest.approx(3600 - 3000))
    assert label("incomplete", "zh") == "数据不全"


def test_per_100_households_from_the_communities_file(standards):
    rule = _rule(
        "per_capita",
        category="community_service_centre",
        attribute="floor_area_m2",
        of="households",
        per=100,
        target=30,
        unit="community",
    )
    centres = _facilities(
        "community_service_centre", [500, 1500], source="planner", floor_area_m2=[50, 400]
    )
    rows = _run(standards, [rule], centres, frames=_frames(households=[200, np.nan]))
    west, east = rows.iloc[0], rows.iloc[1]
    assert west["status"] == "fail"
    assert west["value"] == pytest.approx(50 / 200 * 100)
    assert west["shortfall"] == pytest.approx(30 * 2 - 50)
    assert east["status"] == "not_evaluated"
    assert "户数" in east["note"]
    no_column = _run(standards, [rule], centres)  # communities without a households column
    assert set(no_column["status"]) == {"not_evaluated"}


def test_presence_and_coverage_over_village_units(standards):
    per_village = _rule(
        "presence", category="rural_mutual_aid_elderly", unit="village", min_count=1
    )
    coverage = CoverageRateRule.model_validate(
        {
            "id": "cov",
            "name": {"zh": "覆盖", "en": "coverage"},
            "source": SOURCE,
            "kind": "coverage_rate",
            "of_rule": "r",
            "over": "village",
            "measure": "units",
            "target": 0.7,
        }
    )
    villages = gpd.GeoDataFrame(
        {"unit_id": ["v1", "v2"], "name": ["甲村", "乙村"]}, geometry=[WEST, EAST]
    )
    aid = _facilities("rural_mutual_aid_elderly", [300])
    rows = _run(standards, [per_village, coverage], aid, villages=villages)
    village_rows = rows[rows["unit_level"] == "village"]
    assert village_rows["status"].tolist() == ["pass", "fail"]
    assert village_rows["population"].tolist() == [10_000, 20_000]
    cov = rows[rows["rule_id"] == "cov"].iloc[0]
    assert (cov["value"], cov["status"], cov["shortfall"]) == (0.5, "fail", 1)
    assert cov["shortfall_unit"] == "villages"
    without = _run(standards, [per_village, coverage], aid)
    assert without["status"].tolist() == ["not_evaluated", "not_evaluated"]
    assert "村" in without["note"].iloc[0]


def test_village_level_in_boundaries(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"名称": ["甲村", "乙街道"], "级别": ["村", "街道"]},
        geometry=[box(104.0, 30.6, 104.1, 30.7), box(104.1, 30.6, 104.2, 30.7)],
        crs=4326,
    )
    gdf.to_file(tmp_path / "b.geojson")
    problems = Problems()
    units = read_boundaries(tmp_path / "b.geojson", problems=problems)
    assert units["level"].tolist() == ["village", "street"]
    assert not problems.errors


def test_nested_and_overlapping_polygons_count_once():
    centre, pitch = box(0, 0, 100, 100), box(10, 10, 30, 30)
    shifted, elsewhere = box(50, 0, 150, 100), box(500, 500, 510, 510)
    geoms = np.array([pitch, centre, shifted, elsewhere, Point(0, 0), pitch], dtype=object)
    cats = np.array(["sports_ground"] * 5 + ["football_pitch"])
    measured = np.array([True, True, True, True, False, True])
    area = exclusive_areas(geoms, cats, measured)
    assert area[0] == 0  # inside the centre
    assert area[1] + area[2] == pytest.approx(shapely.union_all([centre, shifted]).area)
    assert area[3] == pytest.approx(100)
    assert np.isnan(area[4])
    assert area[5] == pytest.approx(400)  # another category: its own area


def test_golf_is_not_a_sports_ground_and_the_three_elderly_levels_are_apart(standards):
    def matches(tags):
        return set(categories_of(tags, standards.categories))

    assert "sports_ground" not in matches({"leisure": "pitch", "sport": "golf"})
    assert "sports_ground" in matches({"leisure": "pitch", "sport": "basketball"})
    assert matches({"leisure": "pitch", "sport": "soccer"}) >= {"sports_ground", "football_pitch"}
    assert matches({"name": "王家社区日间照料中心"}) == {"elderly_daycare"}
    assert matches({"name": "李七庄街道综合养老服务中心"}) == {"elderly_street_centre"}
    assert matches({"name": "西青区养老服务指导中心"}) == {"elderly_guidance_centre"}
    assert matches({"name": "西青区残疾人日间照料中心"}) == {"disability_care"}
    assert matches({"name": "张村幸福院"}) == {"rural_mutual_aid_elderly"}
    assert matches({"name": "杨柳青镇敬老院"}) == {"nursing_home"}
    assert matches({"name": "西青区图书馆"}) == {"culture_facility"}
    assert matches({"name": "天津大学图书馆"}) == set()
    assert matches({"name": "新华书城"}) == {"book_city"}
    assert matches({"name": "社区书屋"}) == {"reading_room"}


@pytest.fixture
def configs_copy(tmp_path: Path) -> Path:
    """A copy of the shipped configs folder."""
    src = Path(__file__).resolve().parents[1] / "configs"
    for f in src.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _swap(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def test_households_rule_off_communities_names_file_and_line(configs_copy: Path):
    config_copy = configs_copy / "baicheng.yaml"
    line = _swap(
        config_copy,
        "    of: households\n    per: 100\n    target: 30\n    unit: community",
        "    of: households\n    per: 100\n    target: 30\n    unit: district",
    )
    with pytest.raises(StandardsError) as err:
        load_standards(config_copy)
    assert f"{config_copy} 第 {line + 3} 行，键 rules." in str(err.value)
    assert "按户数计的规则需设 unit: community" in str(err.value)


def test_unknown_attribute_names_file_and_line(configs_copy: Path):
    config_copy = configs_copy / "tianjin.yaml"
    line = _swap(config_copy, "attribute: count", "attribute: pitches")
    with pytest.raises(StandardsError) as err:
        load_standards(config_copy)
    text = str(err.value)
    assert f"{config_copy} 第 {line} 行，键 rules." in text
    assert "“count”" in text and "实际为“pitches”" in text


@pytest.fixture(scope="module")
def every_rule():
    """The national profile with the rules of every shipped city profile (Tianjin's, Xinji's
    and Baicheng's; the first of an id), so that one run exercises them all."""
    rules = {}
    for name in ("tianjin", "xinji", "baicheng"):
        for rule in load_standards(name).rules:
            rules.setdefault(rule.id, rule)
    return load_standards("national").model_copy(update={"rules": list(rules.values())})


@pytest.fixture(scope="module")
def chengdu_all(every_rule):
    return analyze(need(CHENGDU), standards=every_rule)


def test_new_rules_on_chengdu(chengdu_all):
    chengdu = chengdu_all
    res = chengdu.results.set_index(["rule_id", "unit_level"]).sort_index()
    pitches = res.loc[("football_pitches_per_10k", "district")]
    n = (chengdu.facilities["category_id"] == "football_pitch").sum()
    assert n > 0
    assert pitches["value"] == pytest.approx(n / pitches["population"] * 1e4)
    assert pitches["status"] == ("pass" if pitches["value"] >= 1 else "fail")
    # floor area is never read from OSM footprints
    assert res.loc[("culture_floor_area_per_10k", "district"), "status"] == "no_data"
    # no planner communities or boundaries: per-community, street and village rules say why
    for rule_id in ("fitness_site_per_community", "rural_mutual_aid_village_coverage_70"):
        assert res.loc[(rule_id, "district"), "status"] == "not_evaluated"
    assert res.loc[("elderly_centre_per_street", "district"), "status"] == "not_evaluated"
    # the district's sports-ground area: the grounds' areas less what larger ones cover
    grounds = chengdu.facilities[chengdu.facilities["category_id"] == "sports_ground"]
    in_area = grounds[grounds["in_area"]]
    sport = res.loc[("sports_ground_area_per_resident", "district")]
    assert sport["value"] * sport["population"] == pytest.approx(in_area["area_m2"].sum())
    assert (in_area["area_m2"] == 0).any()  # a pitch inside a larger ground adds nothing
    missing = in_area["area_m2"].isna().any()
    expected = "pass" if sport["value"] >= 2.6 else "incomplete" if missing else "fail"
    assert sport["status"] == expected


def test_planner_floor_area_households_and_villages_on_chengdu(chengdu_all, every_rule, tmp_path):
    """Chengdu with a planner's culture list (建筑面积), communities with 户数 and two 村."""
    chengdu, standards = chengdu_all, every_rule
    comm = chengdu.communities.to_crs(4326).reset_index(drop=True)
    comm = comm[["community_id", "name", "population", "geometry"]].head(40).copy()
    comm["population"] = comm["population"].round().clip(lower=1)
    comm["户数"] = 1000.0
    comm.loc[2, "户数"] = np.nan
    comm.rename(columns={"community_id": "id"}).to_file(tmp_path / "社区.geojson")
    minx, miny, maxx, maxy = chengdu.communities.to_crs(4326).total_bounds
    mid = (minx + maxx) / 2
    gpd.GeoDataFrame(
        {"名称": ["西村", "东村"], "级别": ["村", "村"]},
        geometry=[box(minx, miny, mid, maxy), box(mid, miny, maxx, maxy)],
        crs=4326,
    ).to_file(tmp_path / "村.geojson")
    at = comm.geometry.representative_point()
    west = at[at.x < mid].iloc[0]
    rows = [
        {"名称": "丁文化站", "类别": "公共文化设施", "经度": at[3].x, "纬度": at[3].y,
         "建筑面积": 10},
        {"名称": "戊文化馆", "类别": "文化馆", "经度": at[4].x, "纬度": at[4].y},  # no floor area
        {"名称": "甲社区服务中心", "类别": "社区综合服务设施", "经度": at[0].x, "纬度": at[0].y,
         "建筑面积": 300},
        {"名称": "乙社区服务中心", "类别": "社区综合服务设施", "经度": at[1].x, "纬度": at[1].y,
         "建筑面积": 50},
        {"名称": "西村幸福院", "类别": "幸福院", "经度": west.x, "纬度": west.y},
        {"名称": "丙社区服务中心", "类别": "社区综合服务设施", "经度": at[2].x, "纬度": at[2].y,
         "建筑面积": 80},
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "设施.csv", index=False)
    result = analyze(
        need(CHENGDU),
        standards=standards,
        facilities=[tmp_path / "设施.csv"],
        crs="wgs84",  # the file's points are OSM's (a table in China must say its datum)
        communities=tmp_path / "社区.geojson",
        boundaries=tmp_path / "村.geojson",
    )
    r = result.results.set_index(["rule_id", "unit_level", "unit_id"]).sort_index()
    culture_row = r.loc[("culture_floor_area_per_10k", "district")].iloc[0]
    assert culture_row["status"] == "incomplete"  # 10 m² known: short of 1,200 per 10,000
    assert np.isnan(culture_row["shortfall"])
    assert "2处设施中有1处缺少建筑面积" in culture_row["note"]  # OSM ones not counted
    service = r.loc["community_service_area_per_100_households", "community"]
    ids = [f"社区:{i}" for i in comm["community_id"]]  # ids carry the file's name
    assert service.loc[ids[0], ["value", "status"]].tolist() == [30, "pass"]
    assert service.loc[ids[1], ["value", "status", "shortfall"]].tolist() == [5, "fail", 250]
    assert service.loc[ids[2], "status"] == "not_evaluated"  # no 户数
    villages = r.loc["rural_mutual_aid_per_village", "village"]
    assert dict(zip(villages["unit_name"], villages["status"], strict=True)) == {
        "西村": "pass",
        "东村": "fail",
    }
    coverage = r.loc[("rural_mutual_aid_village_coverage_70", "district")].iloc[0]
    assert (coverage["value"], coverage["status"]) == (0.5, "fail")


def test_per_capita_rule_without_attribute_names_file_and_line(configs_copy: Path):
    config_copy = configs_copy / "tianjin.yaml"
    line = _swap(config_copy, "    attribute: count\n", "")
    with pytest.raises(StandardsError) as err:
        load_standards(config_copy)
    assert f"{config_copy} 第 {line - 4} 行，键 rules." in str(err.value)  # the rule's line
    assert "缺少键“attribute”" in str(err.value)
