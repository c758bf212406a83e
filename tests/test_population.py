"""The estimated population: its basis, homes outside residential land, uninhabited areas
(water, parks, large roads) and calibration to an official total (--population)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from circles import analyze
from circles.cli import main
from circles.errors import InputError
from circles.model.communities import (
    buildings_from_osm,
    calibrate,
    calibrate_streets,
    estimate_population,
    homes_outside,
    spread_population,
    street_of,
    uninhabited_areas,
)
from circles.pipeline import check_population, feature_keys
from circles.sources.osm import read_extract
from circles.sources.planner_files import read_boundaries, read_communities
from conftest import CHENGDU, need

PLANNER = CHENGDU.parents[1] / "planner-samples" / "社区.geojson"
UTM = "EPSG:32648"


def _features(rows: list[tuple[dict, shapely.Geometry]]) -> gpd.GeoDataFrame:
    """OSM-like features from (tags, metric geometry) pairs, in WGS-84."""
    metric = gpd.GeoSeries([g for _, g in rows], crs=UTM)
    return gpd.GeoDataFrame(
        {
            "osm_type": "way",
            "osm_id": np.arange(len(rows)),
            "name": None,
            "tags": [t for t, _ in rows],
        },
        geometry=metric.to_crs(4326).values,
        crs=4326,
    )


def _residents_in(demand: gpd.GeoDataFrame, area: shapely.Geometry) -> float:
    return float(
        demand["population"].to_numpy()[shapely.intersects(demand.geometry.values, area)].sum()
    )


def test_official_population_is_never_spread_over_water(standards):
    """A community half in a lake: its grid points in the lake are dropped, its residents
    go to the others; a community all in water gets one representative point."""
    lake = box(400_200, 3_400_000, 400_500, 3_400_400)
    features = _features([({"natural": "water"}, lake)])
    nowhere = uninhabited_areas(features, gpd.GeoSeries([], crs=UTM), standards.population, UTM)
    communities = gpd.GeoDataFrame(
        {"community_id": ["a", "b"], "name": ["甲", "乙"], "population": [4000.0, 100.0]},
        geometry=[
            box(400_000, 3_400_000, 400_400, 3_400_400),
            box(400_300, 3_400_100, 400_400, 3_400_200),
        ],
        crs=UTM,
    )
    no_buildings = buildings_from_osm(features.iloc[:0], standards.population, UTM)
    _, before = spread_population(communities, no_buildings, standards.population)
    assert _residents_in(before, lake) > 1000
    _, after = spread_population(communities, no_buildings, standards.population, nowhere)
    assert _residents_in(after[after["community_id"] == "a"], lake) == 0
    assert after.groupby("community_id")["population"].sum().to_dict() == pytest.approx(
        {"a": 4000, "b": 100}
    )
    assert (after.loc[after["community_id"] == "b", "kind"] == "representative").all()


def test_large_roads_and_parks_hold_no_one(standards):
    road = shapely.LineString([(400_000, 3_400_200), (400_400, 3_400_200)])
    park = box(400_000, 3_400_300, 400_400, 3_400_400)
    features = _features(
        [
            ({"leisure": "park"}, park),
            ({"landuse": "residential"}, box(400_000, 3_400_000, 400_400, 3_400_400)),
        ]
    )
    nowhere = uninhabited_areas(features, gpd.GeoSeries([road], crs=UTM), standards.population, UTM)
    land = gpd.GeoDataFrame(
        {"community_id": ["r"], "name": [None], "area_m2": [160_000.0]},
        geometry=[box(400_000, 3_400_000, 400_400, 3_400_400)],
        crs=UTM,
    )
    no_buildings = buildings_from_osm(features.iloc[:0], standards.population, UTM)
    comm, demand = estimate_population(land, no_buildings, standards.population, nowhere)
    half = standards.population.large_road_half_width_m.value
    assert _residents_in(demand, park) == 0
    assert _residents_in(demand, road.buffer(half)) == 0
    # the density method counts the inhabited land only
    assert comm["inhabited_m2"].iloc[0] == pytest.approx(
        160_000 - 40_000 - 400 * 2 * half, rel=0.01
    )


def test_railways_and_rivers_drawn_as_lines_hold_no_one(standards):
    """A rail line and a river mapped only as a line cross a community: no one is placed
    within their half width; a railway in a tunnel leaves the homes above it."""
    rail = shapely.LineString([(400_000, 3_400_125), (400_400, 3_400_125)])  # on grid rows
    river = shapely.LineString([(400_125, 3_400_000), (400_125, 3_400_400)])
    subway = shapely.LineString([(400_000, 3_400_325), (400_400, 3_400_325)])
    features = _features(
        [
            ({"railway": "rail"}, rail),
            ({"waterway": "river"}, river),
            ({"railway": "rail", "tunnel": "yes", "layer": "-1"}, subway),
        ]
    )
    nowhere = uninhabited_areas(features, gpd.GeoSeries([], crs=UTM), standards.population, UTM)
    community = gpd.GeoDataFrame(
        {"community_id": ["a"], "name": ["甲"], "population": [4000.0]},
        geometry=[box(400_000, 3_400_000, 400_400, 3_400_400)],
        crs=UTM,
    )
    no_buildings = buildings_from_osm(features.iloc[:0], standards.population, UTM)
    _, everywhere = spread_population(community, no_buildings, standards.population)
    _, demand = spread_population(community, no_buildings, standards.population, nowhere)
    half = standards.population.uninhabited_line_half_width_m
    assert _residents_in(everywhere, rail.buffer(half)) > 0
    assert _residents_in(demand, rail.buffer(half)) == 0
    assert _residents_in(demand, river.buffer(half)) == 0
    assert _residents_in(demand, subway.buffer(half)) > 0
    assert demand["population"].sum() == pytest.approx(4000)


def test_homes_outside_residential_land_are_units_and_offices_are_not(standards):
    """Apartments outside landuse=residential get residents in a cluster unit; a building=yes
    outside residential land does not; without residential land all buildings cluster."""
    settings = standards.population
    flats = [box(400_000 + 40 * i, 3_400_000, 400_020 + 40 * i, 3_400_020) for i in range(3)]
    office = box(401_000, 3_400_000, 401_030, 3_400_030)
    rows = [({"building": "apartments", "building:levels": "10"}, g) for g in flats]
    rows.append(({"building": "yes"}, office))
    buildings = buildings_from_osm(_features(rows), settings, UTM)
    area = box(399_000, 3_399_000, 402_000, 3_401_000)
    none = gpd.GeoDataFrame({"community_id": [], "name": [], "area_m2": []}, geometry=[], crs=UTM)
    land = gpd.GeoDataFrame(
        {"community_id": ["r"], "name": ["x"], "area_m2": [1.0]},
        geometry=[box(402_500, 3_400_000, 402_600, 3_400_100)],
        crs=UTM,
    )
    units, kept = homes_outside(land, buildings, area, settings)
    assert len(units) == 1 and units["unit_kind"].iloc[0] == "building_cluster"
    assert sorted(kept["building"]) == ["apartments"] * 3
    comm, demand = estimate_population(units, kept, settings)
    assert comm["population_method"].iloc[0] == "building_cluster"
    assert comm["population"].iloc[0] == pytest.approx(
        3 * 400 * 10 / settings.floor_area_per_person_m2.value
    )
    assert (demand["kind"] == "building").all()
    built_up, kept = homes_outside(none, buildings, area, settings)
    assert len(built_up) == 2 and set(built_up["unit_kind"]) == {"built_up"}
    assert len(kept) == 4


def test_calibrate_scales_communities_and_points():
    comm = gpd.GeoDataFrame(
        {"community_id": ["a", "b"], "population": [100.0, 300.0], "elderly": [10.0, 30.0]},
        geometry=[shapely.Point(0, 0)] * 2,
    )
    demand = gpd.GeoDataFrame(
        {"community_id": ["a", "b", "b"], "population": [100.0, 150.0, 150.0]},
        geometry=[shapely.Point(0, 0)] * 3,
    )
    comm, demand, factor = calibrate(comm, demand, 1000)
    assert factor == 2.5
    assert comm["population"].sum() == demand["population"].sum() == 1000
    assert comm["elderly"].tolist() == [25, 75]
    assert comm["population_calibrated"].all() and demand["population_calibrated"].all()


@pytest.mark.parametrize("bad", [0, -5, "abc", "nan", "inf", ""])
def test_population_must_be_a_positive_number(bad):
    with pytest.raises(InputError, match="--population"):
        check_population(bad)
    assert check_population("1,250,000") == 1_250_000


def test_population_basis_is_reported(chengdu):
    basis = chengdu.summary["population"]
    assert basis["total"] == chengdu.summary["communities"]["population"]
    assert 0.05 < basis["residential_land_share"] < 0.10  # 7.7 % of central Chengdu
    assert basis["density_per_km2"] == pytest.approx(
        basis["total"] / basis["study_area_km2"], rel=1e-3
    )
    assert basis["residents_by_buildings"] + basis["residents_by_land_area"] == pytest.approx(
        basis["total"], abs=2
    )
    assert basis["home_cluster_units"] > 0 and basis["residents_by_method"]["building_cluster"] > 0
    assert basis["calibrated"] is False and basis["calibrated_by"] is None
    assert not chengdu.communities["population_calibrated"].any()


def test_population_calibrates_and_far_totals_are_refused(chengdu, standards):
    osm = need(CHENGDU)
    estimate = chengdu.summary["population"]["total"]
    result = analyze(osm, standards=standards, population=2 * estimate)
    basis = result.summary["population"]
    assert basis["total"] == 2 * estimate and basis["calibrated"] is True
    assert basis["calibrated_by"] == f"--population {2 * estimate:,}"
    assert basis["total_before_calibration"] == estimate
    assert result.demand_points["population"].sum() == pytest.approx(2 * estimate)
    assert result.communities["population_calibrated"].all()
    assert not any("倍；请核实该数字" in w for w in result.warnings)
    warned = analyze(osm, standards=standards, population=5 * estimate)
    assert any("）的 5 倍；请核实该数字是否对应本研究范围" in w for w in warned.warnings)
    with pytest.raises(InputError, match="偏大或偏小超过 10 倍"):
        analyze(osm, standards=standards, population=estimate / 20)


def test_population_option_in_the_terminal(tmp_path):
    osm = need(CHENGDU)
    run = CliRunner().invoke(
        main, ["analyze", "--osm", str(osm), "--out", str(tmp_path / "a"), "--population", "-3"]
    )
    assert run.exit_code == 2 and "--population -3：应为研究范围的常住人口数，大于 0" in run.output
    args = ["analyze", "--osm", str(osm), "--population", "-3", "--lang", "en"]
    run = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "en")])
    assert run.exit_code == 2 and "--population -3: expected the number of residents" in run.output
    assert "circles: error: " in run.output, "the error line in the command's language"
    run = CliRunner().invoke(
        main, ["analyze", "--osm", str(osm), "--out", str(tmp_path / "b"), "--population", "600000"]
    )
    assert run.exit_code == 0, run.output
    assert re.search(r"人口依据：居住用地占 \d+\.\d%，研究范围 \d+\.\d km²", run.output)
    assert "人口 600,000（估算，已校准）" in run.output
    assert "已按 --population 600,000 校准（估算 " in run.output


def test_planner_communities_over_chengdu_place_no_one_in_water(standards):
    """The planner sample: 7,641 residents were placed in rivers before; none now."""
    osm = need(CHENGDU)
    if not PLANNER.exists():
        pytest.skip(f"{PLANNER} not found")
    result = analyze(osm, standards=standards, communities=str(PLANNER))
    lakes = shapely.union_all(result.water.geometry.values)  # water areas of the extract
    assert lakes.area > 0
    assert _residents_in(result.demand_points, lakes) == 0
    # 13,187 residents stood on railways and rivers mapped as lines before they were read
    features = read_extract(osm, feature_keys(standards), None).features
    lines = features[features.geom_type.eq("LineString")]
    rails = lines[lines["tags"].map(lambda t: t.get("railway") == "rail" and "tunnel" not in t)]
    rails = rails[~rails["tags"].map(lambda t: t.get("layer", "0").startswith("-"))]
    assert len(rails) > 50
    track = shapely.union_all(rails.to_crs(result.crs).buffer(5).values)
    assert _residents_in(result.demand_points.to_crs(result.crs), track) == 0
    assert result.demand_points["population"].sum() == pytest.approx(
        result.communities["population"].sum()
    )
    basis = result.summary["population"]
    assert basis["calibrated"] is True and basis["calibrated_by"] == "社区文件"
    assert basis["residential_land_share"] is None


STREETS = CHENGDU.parents[1] / "planner-samples" / "街道.shp"


def test_street_populations_calibrate_the_residents_inside(tianjin):
    """The sample 街道.shp: each street's demand points sum to its 常住人口 (to 0.1 %)."""
    standards = tianjin  # per-capita rules: their notes say the population is calibrated
    osm = need(CHENGDU)
    if not STREETS.exists():
        pytest.skip(f"{STREETS} not found")
    result = analyze(osm, standards=standards, boundaries=str(STREETS))
    streets = read_boundaries(STREETS)
    streets = streets[streets["level"] == "street"].reset_index(drop=True)
    demand = result.demand_points.to_crs(4326)
    at = street_of(streets, demand.geometry)
    for i, official in enumerate(streets["population"]):
        placed = float(demand["population"].to_numpy()[at == i].sum())
        assert placed == pytest.approx(official, rel=1e-3), streets["name"][i]
    basis = result.summary["population"]
    assert basis["calibrated"] is True
    # the district polygon of 街道.shp is the study area: its 常住人口 is the total, then streets
    district = read_boundaries(STREETS)
    total = float(district[district["level"] == "district"]["population"].iloc[0])
    assert basis["calibrated_by"] == (
        f"街道.shp 常住人口 {total:,.0f}；边界文件的常住人口（6 个街道）"
    )
    assert [s["official"] for s in basis["streets"]] == list(streets["population"].round())
    assert basis["total_before_calibration"] < basis["total"]
    assert result.communities["population_calibrated"].all()
    assert result.communities["population"].sum() == pytest.approx(demand["population"].sum())
    assert any("倍；请核实该数字是否对应本研究范围" in w for w in result.warnings)
    per_capita = result.results[result.results["kind"] == "per_capita"]
    assert len(per_capita)
    assert not per_capita["note"].fillna("").str.contains("未校准").any()


def test_calibrate_streets_warns_of_streets_with_no_one_placed():
    metric = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)]
    streets = gpd.GeoDataFrame(
        {"unit_id": ["a", "b", "c"], "name": ["A", "B", "C"], "population": [300, 50, np.nan]},
        geometry=metric,
        crs=UTM,
    )
    points = [shapely.Point(10, 10), shapely.Point(50, 50), shapely.Point(250, 50)]
    demand = gpd.GeoDataFrame(
        {
            "community_id": ["x", "x", "y"],
            "population": [10.0, 20.0, 40.0],
            "population_estimated": True,
            "population_calibrated": False,
        },
        geometry=points,
        crs=UTM,
    )
    communities = gpd.GeoDataFrame(
        {
            "community_id": ["x", "y"],
            "population": [30.0, 40.0],
            "population_estimated": True,
            "population_calibrated": False,
        },
        geometry=[box(0, 0, 60, 60), box(240, 40, 260, 60)],
        crs=UTM,
    )
    comm, dem, report = calibrate_streets(communities, demand, streets)
    assert dem["population"].tolist() == [100.0, 200.0, 40.0]  # C has no official count
    assert comm["population"].tolist() == [300.0, 40.0]
    assert comm["population_calibrated"].tolist() == [True, False]
    assert report["unit_id"].tolist() == ["a", "b"]
    assert report.loc[1, "estimate"] == 0 and np.isnan(report.loc[1, "factor"])


def test_per_capita_rows_on_an_uncalibrated_estimate_are_indicative(chengdu_tianjin, tianjin):
    chengdu, standards = chengdu_tianjin, tianjin  # Tianjin's profile has per-capita rules
    per_capita = chengdu.results[chengdu.results["kind"] == "per_capita"]
    judged = per_capita[per_capita["status"].isin(["pass", "fail"])]
    assert len(judged)
    assert judged["note"].str.contains("人口为估算且未校准：结果仅供参考", regex=False).all()
    calibrated = analyze(
        need(CHENGDU), standards=standards, population=chengdu.summary["population"]["total"]
    )
    per_capita = calibrated.results[calibrated.results["kind"] == "per_capita"]
    assert not per_capita["note"].fillna("").str.contains("未校准").any()


def test_planner_communities_are_never_rescaled_by_streets(standards):
    osm = need(CHENGDU)
    if not (STREETS.exists() and PLANNER.exists()):
        pytest.skip("planner samples not found")
    both = analyze(osm, standards=standards, communities=str(PLANNER), boundaries=str(STREETS))
    assert both.summary["population"]["calibrated_by"] == "社区文件"
    assert "streets" not in both.summary["population"]
    kept = both.communities.set_index("community_id")["population"]
    given = read_communities(PLANNER).set_index("community_id")["population"]
    assert len(kept) and (kept == given.reindex(kept.index)).all()  # each as in the file
