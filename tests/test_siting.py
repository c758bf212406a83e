"""Scoring and recommending sites: equal to a re-analysis, exact optimum equal to brute force."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from circles import analyze
from circles.cli import main
from circles.coords import to_wgs84
from circles.errors import InputError
from circles.siting import (
    auto_candidates,
    coverage_matrix,
    exact_mclp,
    greedy_mclp,
    place_site,
    recommend,
    score_site,
    service_areas,
)
from circles.store import load_state
from conftest import CHENGDU, need

SITES = [(104.08, 30.69), (104.1, 30.675), (104.063, 30.707)]


@pytest.fixture(scope="module")
def saved(chengdu, tmp_path_factory):
    folder = tmp_path_factory.mktemp("chengdu")
    chengdu.write(folder)
    return load_state(folder)


@pytest.mark.parametrize("category", ["kindergarten", "elderly_meal", "supermarket"])
def test_newly_covered_equals_full_reanalysis_with_the_site(category, saved, chengdu, standards):
    for lon, lat in SITES:
        score = score_site(saved, category, lon, lat)
        site = gpd.GeoDataFrame(
            {"category_id": [category]}, geometry=[shapely.Point(lon, lat)], crs=4326
        )
        again = analyze(need(CHENGDU), standards=standards, facilities=[site])
        pop = again.demand_points["population"].to_numpy()
        before = chengdu.demand_points[f"dist_m.{category}"].fillna(np.inf).to_numpy()
        after = again.demand_points[f"dist_m.{category}"].fillna(np.inf).to_numpy()
        res_a, res_b = chengdu.results, again.results
        for rule in score["rules"]:
            t = rule["threshold_m"]
            newly = pop[(before > t) & (after <= t)].sum()
            assert rule["newly_covered_population"] == pytest.approx(newly, abs=0.051)
            a = res_a[(res_a.rule_id == rule["rule_id"]) & (res_a.unit_level == "community")]
            b = res_b[(res_b.rule_id == rule["rule_id"]) & (res_b.unit_level == "community")]
            passing = set(b[b.status == "pass"].unit_id) - set(a[a.status == "pass"].unit_id)
            assert {c["community_id"] for c in rule["communities_newly_passing"]} == passing
        if (chengdu.facilities["category_id"] == category).any():
            # redundancy: the site's distance to the nearest existing facility, checked as the
            # re-analysis distance of the new facility's join point to the old facilities
            assert score["nearest_existing_m"] is None or score["nearest_existing_m"] > 0


def test_some_site_newly_covers_people(saved):
    scores = [score_site(saved, "elderly_meal", lon, lat) for lon, lat in SITES]
    assert max(s["rules"][0]["newly_covered_population"] for s in scores) > 100


def test_exact_solver_equals_brute_force_on_real_instance(saved, standards):
    rule = standards.access_rules("kindergarten")[0]
    threshold = standards.threshold_m(rule.threshold)
    old = np.nan_to_num(saved.point_dist("kindergarten"), nan=np.inf)
    points = np.flatnonzero(old > threshold)
    nodes = auto_candidates(saved)[::150][:14]
    cover = coverage_matrix(saved, nodes, points, threshold)
    weights = saved.point_population[points]
    assert cover.nnz > 0

    def covered(chosen) -> float:
        hit = np.zeros(cover.shape[1], bool)
        for j in chosen:
            hit[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
        return float(weights[hit].sum())

    for k in (1, 2, 3):
        brute = max(covered(c) for c in itertools.combinations(range(len(nodes)), k))
        chosen, status = exact_mclp(cover, weights, k)
        assert status == "Optimal"
        assert covered(chosen) == pytest.approx(brute, rel=1e-9)
        assert covered(greedy_mclp(cover, weights, k)) <= brute + 1e-9


def test_recommend_reports_method_and_greedy_against_exact(saved):
    rec = recommend(saved, "kindergarten", 3)
    assert rec.method.startswith("exact")
    assert rec.greedy_vs_exact["greedy_share_of_optimum"] <= 1.0
    assert len(rec.sites) == 3
    assert rec.uncovered_after < rec.uncovered_before
    gains = rec.sites["newly_covered_population"].to_numpy()
    assert (np.diff(gains) <= 1e-9).all()
    greedy = recommend(saved, "kindergarten", 3, method="greedy")
    assert greedy.method == "lazy greedy"


def test_min_spacing_is_respected(saved):
    rec = recommend(saved, "supermarket", 4, min_spacing_m=800)
    xy = rec.site_xy
    gaps = [np.hypot(*(xy[i] - xy[j])) for i, j in itertools.combinations(range(len(xy)), 2)]
    assert min(gaps) >= 800


def test_service_areas_nest_and_hold_reached_nodes(saved):
    site = place_site(saved, 104.08, 30.69, 1000)
    areas = service_areas(saved, site.node_dist_m, 1.1).to_crs(saved.crs)
    five, ten, fifteen = areas.geometry.values
    assert five.area < ten.area < fifteen.area
    assert fifteen.buffer(1e-6).contains(ten)
    reached = saved.node_xy[: saved.n_network][site.node_dist_m[: saved.n_network] <= 5 * 66]
    assert shapely.contains_xy(five.buffer(0.01), reached[:, 0], reached[:, 1]).all()


def test_gcj02_test_pair_lands_within_2m():
    from pyproj import Geod

    lon, lat = to_wgs84(116.42703, 39.90245, "gcj02")
    dist = Geod(ellps="WGS84").inv(lon[0], lat[0], 116.42079, 39.90105)[2]
    assert dist < 2.0


def test_bad_input(saved, tmp_path):
    with pytest.raises(InputError, match="outside the study area"):
        score_site(saved, "kindergarten", 116.4, 39.9)
    with pytest.raises(InputError, match="Did you mean 'kindergarten'"):
        score_site(saved, "kindergarden", 104.08, 30.69)
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    with pytest.raises(InputError, match="holds no site"):
        recommend(saved, "kindergarten", 2, candidates=empty)
    with pytest.raises(InputError, match="not an analysis folder"):
        load_state(tmp_path)


def test_cli_score_and_recommend(saved, tmp_path):
    folder = str(saved.folder)
    sites = tmp_path / "sites.csv"
    sites.write_text("名称,经度,纬度\nA,104.07,30.68\nB,104.09,30.70\n", encoding="gb18030")
    run = CliRunner().invoke(
        main,
        [
            "score",
            "--analysis",
            folder,
            "--category",
            "kindergarten",
            "--sites",
            str(sites),
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert run.exit_code == 0, run.output
    assert (tmp_path / "s" / "sites_map.html").stat().st_size > 1000
    text = (tmp_path / "s" / "site_scores.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("排名,名称")
    run = CliRunner().invoke(
        main,
        [
            "recommend",
            "--analysis",
            folder,
            "--category",
            "elderly_meal",
            "--count",
            "2",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert run.exit_code == 0, run.output
    result = json.loads((tmp_path / "r" / "recommend.json").read_text(encoding="utf-8"))
    assert len(result["sites"]) == 2
    assert "exact" in result["method"]
    bad = CliRunner().invoke(
        main, ["score", "--analysis", folder, "--category", "kindergarten", "--at", "116.4,39.9"]
    )
    assert bad.exit_code == 2
    assert "outside the study area" in bad.output
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    bad = CliRunner().invoke(
        main,
        [
            "recommend",
            "--analysis",
            folder,
            "--category",
            "kindergarten",
            "--count",
            "2",
            "--candidates",
            str(empty),
        ],
    )
    assert bad.exit_code == 2
    assert "holds no rows" in bad.output
