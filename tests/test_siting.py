"""Scoring and recommending sites: equal to a re-analysis, exact optimum equal to brute force."""

from __future__ import annotations

import itertools
import json
import re
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from circles import analyze
from circles.access.service_areas import service_areas
from circles.access.state import FORMAT_VERSION, load_state
from circles.cli import main
from circles.errors import InputError
from circles.messages import language
from circles.planning.recommend import (
    _solve,
    auto_candidates,
    coverage_matrix,
    exact_mclp,
    greedy_mclp,
    recommend,
)
from circles.planning.saved import load_analysis
from circles.planning.score import place_site, score_site
from circles.present.tables import write_outputs
from circles.sources.coords import to_wgs84
from conftest import CHENGDU, need

SITES = [(104.08, 30.69), (104.1, 30.675), (104.063, 30.707)]
SAMPLES = CHENGDU.parents[1] / "planner-samples"


@pytest.fixture(scope="module")
def standards(tianjin):
    """Tianjin's profile: it holds the elderly meal rule that siting is tested on."""
    return tianjin


@pytest.fixture(scope="module")
def chengdu(chengdu_tianjin):
    """Chengdu judged by Tianjin's profile (see ``standards``)."""
    return chengdu_tianjin


@pytest.fixture(scope="module")
def saved(chengdu, tmp_path_factory):
    folder = tmp_path_factory.mktemp("chengdu")
    write_outputs(chengdu, folder)
    return load_analysis(folder)


def _district(results, rule_id):
    rows = results[(results.rule_id == rule_id) & (results.unit_level == "district")]
    return rows.iloc[0]


def _assert_score_equals_reanalysis(score, before, after, counted):
    """Every per-rule number of ``score`` equals the analyses without and with the site."""
    res_a, res_b = before.results, after.results
    for rule in score["rules"]:
        a, b = _district(res_a, rule["rule_id"]), _district(res_b, rule["rule_id"])
        assert rule["counted"] == counted
        weight = "population" if counted == "total" else counted
        inside_a = (a["value"] * a["population"]) if a["status"] != "no_data" else None
        # newly covered residents, counted as the rule counts them, from the re-analysis's
        # own demand points and distances
        t = rule["threshold_m"]
        w = after.demand_points[weight].to_numpy()
        d_a = before.demand_points[f"dist_m.{score['category_id']}"].fillna(np.inf).to_numpy()
        d_b = after.demand_points[f"dist_m.{score['category_id']}"].fillna(np.inf).to_numpy()
        newly = w[(d_a > t) & (d_b <= t)].sum()
        assert rule["newly_covered_population"] == pytest.approx(newly, abs=0.051)
        assert rule["share_after"] == pytest.approx(b["value"], abs=1e-6)
        if inside_a is not None:
            assert rule["share_before"] == pytest.approx(a["value"], abs=1e-6)
        for what in ("median", "worst"):
            for when, row in (("before", a), ("after", b)):
                got, want = rule[f"{what}_dist_m_{when}"], row[f"{what}_dist_m"]
                if pd.isna(want):
                    assert got is None
                else:
                    assert got == pytest.approx(want, abs=0.051)
                    assert rule[f"{what}_time_min_{when}"] == pytest.approx(
                        row[f"{what}_time_min"], abs=0.006
                    )
        ca = res_a[(res_a.rule_id == rule["rule_id"]) & (res_a.unit_level == "community")]
        cb = res_b[(res_b.rule_id == rule["rule_id"]) & (res_b.unit_level == "community")]
        passing = set(cb[cb.status == "pass"].unit_id) - set(ca[ca.status == "pass"].unit_id)
        assert {c["community_id"] for c in rule["communities_newly_passing"]} == passing


def _with_site(category, lon, lat):
    return gpd.GeoDataFrame(
        {"category_id": [category], "name": ["拟建设施"]},
        geometry=[shapely.Point(lon, lat)],
        crs=4326,
    )


@pytest.mark.parametrize("category", ["kindergarten", "elderly_meal", "supermarket"])
def test_score_equals_full_reanalysis_with_the_site(category, saved, chengdu, standards):
    for lon, lat in SITES:
        score = score_site(saved, category, lon, lat)
        again = analyze(
            need(CHENGDU), standards=standards, facilities=[_with_site(category, lon, lat)]
        )
        _assert_score_equals_reanalysis(score, chengdu, again, "total")
        if (chengdu.facilities["category_id"] == category).any():
            assert score["nearest_existing_m"] is None or score["nearest_existing_m"] > 0


def test_score_counts_residents_as_the_elderly_rule_does(standards, tmp_path):
    """With the planner's communities (60+ counts) and meal points, an elderly rule's score
    counts residents aged 60+, exactly as a re-analysis with the site added."""
    inputs = {
        "communities": SAMPLES / "社区.geojson",
        "facilities": [f"{SAMPLES / '老年助餐点.xlsx'}::category=elderly_meal,crs=gcj02"],
    }
    if not inputs["communities"].exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    before = analyze(need(CHENGDU), standards=standards, **inputs)
    write_outputs(before, tmp_path)
    saved_planner = load_analysis(tmp_path)
    lon, lat = 104.08, 30.69
    score = score_site(saved_planner, "elderly_meal", lon, lat)
    facilities = [*inputs["facilities"], _with_site("elderly_meal", lon, lat)]
    after = analyze(
        need(CHENGDU), standards=standards, communities=inputs["communities"], facilities=facilities
    )
    _assert_score_equals_reanalysis(score, before, after, "elderly")
    assert score["rules"][0]["newly_covered_population"] > 0
    elderly = before.demand_points["elderly"].sum()
    assert elderly < before.demand_points["population"].sum()


def test_saved_state_rebuilds_the_same_objects(chengdu, saved):
    graph, loaded = chengdu.state.graph, saved.state.graph
    for name, value in graph.to_arrays().items():
        np.testing.assert_array_equal(
            getattr(loaded, name, None)
            if name not in ("indptr", "indices", "data")
            else getattr(loaded.matrix, name),
            value,
        )
    for cat_id, acc in chengdu.state.access.items():
        again = saved.state.access[cat_id]
        np.testing.assert_array_equal(again.node_dist_m, acc.node_dist_m)
        np.testing.assert_array_equal(again.nearest_facility, acc.nearest_facility)
        assert again.limit_m == acc.limit_m


def test_old_or_foreign_state_is_refused_naming_its_version(saved, tmp_path):
    arrays = dict(np.load(saved.folder / "access.npz"))
    old = {k: v for k, v in arrays.items() if k != "format_version"} | {"indptr": np.arange(3)}
    np.savez(tmp_path / "old.npz", **old)
    with pytest.raises(InputError, match=r"第 1 版格式.*读取第 \d 版格式的 access\.npz"):
        load_state(tmp_path / "old.npz")
    np.savez(tmp_path / "new.npz", **arrays | {"format_version": np.array(FORMAT_VERSION + 1)})
    with pytest.raises(InputError, match=f"第 {FORMAT_VERSION + 1} 版格式"):
        load_state(tmp_path / "new.npz")
    np.savez(tmp_path / "foreign.npz", x=np.arange(3))
    with pytest.raises(InputError, match="非 circles 保存的数据"):
        load_state(tmp_path / "foreign.npz")
    (tmp_path / "text.npz").write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputError, match="无法读取保存的分析结果"):
        load_state(tmp_path / "text.npz")


def test_some_site_newly_covers_people(saved):
    scores = [score_site(saved, "elderly_meal", lon, lat) for lon, lat in SITES]
    assert max(s["rules"][0]["newly_covered_population"] for s in scores) > 100


def test_exact_solver_equals_brute_force_on_real_instance(saved, standards):
    rule = standards.access_rules("kindergarten")[0]
    threshold = standards.threshold_m(rule.threshold)
    old = saved.state.point_dist("kindergarten")
    points = np.flatnonzero(old > threshold)
    nodes = auto_candidates(saved)[::150][:14]
    cover = coverage_matrix(saved, nodes, points, threshold)
    weights = saved.state.demand["population"][points]
    assert cover.nnz > 0

    def covered(chosen) -> float:
        hit = np.zeros(cover.shape[1], bool)
        for j in chosen:
            hit[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
        return float(weights[hit].sum())

    for k in (1, 2, 3):
        brute = max(covered(c) for c in itertools.combinations(range(len(nodes)), k))
        greedy = greedy_mclp(cover, weights, k)
        for start in (None, greedy):
            exact = exact_mclp(cover, weights, k, start=start)
            assert exact.proven and exact.status == "Optimal"
            assert covered(exact.chosen) == pytest.approx(brute, rel=1e-9)
            assert exact.bound == pytest.approx(brute, rel=1e-9)
        assert covered(greedy) <= brute + 1e-9


def _hit(cover, chosen) -> np.ndarray:
    hit = np.zeros(cover.shape[1], bool)
    for j in chosen:
        hit[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
    return hit


def test_a_stopped_solver_is_not_called_optimal_and_never_beats_greedy_down(saved, standards):
    """CBC stopped by its time limit: not reported optimal, its bound is the LP relaxation's
    (at least what any choice covers), and recommend keeps the better of exact and greedy."""
    rule = standards.access_rules("supermarket")[0]
    threshold = standards.threshold_m(rule.threshold)
    points = np.flatnonzero(saved.state.point_dist("supermarket") > threshold)
    cover = coverage_matrix(saved, auto_candidates(saved), points, threshold)
    weights = saved.state.demand["population"][points]
    greedy = greedy_mclp(cover, weights, 8)
    stopped = exact_mclp(cover, weights, 8, time_limit_s=0.01)
    if stopped.proven:
        pytest.skip("CBC proved this instance within 0.01 s on this machine")
    assert stopped.status_text().endswith(("已到时限停止", "未找到解"))
    with language("en"):
        assert stopped.status_text().endswith((", stopped", ", no solution"))
    assert len(stopped.chosen) <= 8  # never more sites than asked, whatever CBC left
    hit = _hit(cover, greedy)
    assert stopped.bound >= float(weights[hit].sum()) - 1e-6
    chosen, method, report = _solve(cover, weights, 8, None, "exact", time_limit_s=0.01)
    assert float(weights[_hit(cover, chosen)].sum()) >= float(weights[hit].sum()) - 1e-6
    assert not report["proven_optimal"] and "已证明最优" not in method and "与最优差距 ≤" in method
    assert 0 <= report["optimality_gap"] < 1


def test_recommend_reports_method_and_greedy_against_exact(saved):
    rec = recommend(saved, "kindergarten", 3)
    assert rec.method == "精确求解（PuLP/CBC，最优，已证明最优）"
    assert rec.greedy_vs_exact["greedy_share_of_optimum"] <= 1.0
    assert rec.greedy_vs_exact["proven_optimal"] is True
    assert rec.greedy_vs_exact["optimality_gap"] == 0.0
    assert (
        rec.greedy_vs_exact["exact_covered_population"]
        >= (rec.greedy_vs_exact["greedy_covered_population"])
    )
    assert len(rec.sites) == 3
    assert rec.uncovered_after < rec.uncovered_before
    gains = rec.sites["newly_covered_population"].to_numpy()
    assert (np.diff(gains) <= 1e-9).all()
    greedy = recommend(saved, "kindergarten", 3, method="greedy")
    assert greedy.method == "惰性贪心算法"
    with language("en"):
        assert recommend(saved, "kindergarten", 3, method="greedy").method == "lazy greedy"
        assert recommend(saved, "kindergarten", 3).method == "exact (PuLP/CBC, Optimal, optimal)"


def test_min_spacing_is_respected(saved):
    rec = recommend(saved, "supermarket", 4, min_spacing_m=800)
    xy = rec.site_xy
    gaps = [np.hypot(*(xy[i] - xy[j])) for i, j in itertools.combinations(range(len(xy)), 2)]
    assert min(gaps) >= 800


def test_service_areas_nest_and_hold_reached_nodes(saved):
    site = place_site(saved, "kindergarten", 104.08, 30.69)
    speed = saved.standards.speed_m_s("adult")
    areas = service_areas(saved.state.graph, saved.crs, site.node_dist_m, saved.standards, "adult")
    areas = areas.to_crs(saved.crs)
    five, ten, fifteen = areas.geometry.values
    assert five.area < ten.area < fifteen.area
    assert fifteen.buffer(1e-6).contains(ten)
    graph = saved.state.graph
    reached = graph.node_xy[: graph.n_network][
        site.node_dist_m[: graph.n_network] <= 5 * 60 * speed
    ]
    assert shapely.contains_xy(five.buffer(0.01), reached[:, 0], reached[:, 1]).all()


def test_gcj02_test_pair_lands_within_2m():
    from pyproj import Geod

    lon, lat = to_wgs84(116.42703, 39.90245, "gcj02")
    dist = Geod(ellps="WGS84").inv(lon[0], lat[0], 116.42079, 39.90105)[2]
    assert dist < 2.0


def test_bad_input(saved, tmp_path):
    with pytest.raises(InputError, match=r"位于本次分析的研究范围（.*）之外"):
        score_site(saved, "kindergarten", 116.4, 39.9)
    with pytest.raises(
        InputError, match="未知类别“kindergarden”。是否指“kindergarten”？已有类别："
    ):
        score_site(saved, "kindergarden", 104.08, 30.69)
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    with pytest.raises(InputError, match="候选点文件中没有任何点位"):
        recommend(saved, "kindergarten", 2, candidates=empty)
    with pytest.raises(InputError, match="不是分析结果文件夹"):
        load_analysis(tmp_path)
    with pytest.raises(InputError, match="--count 至少为 1"):
        recommend(saved, "kindergarten", 0)
    with pytest.raises(InputError, match="没有步行可达规则“nope”；应为以下之一："):
        score_site(saved, "kindergarten", 104.08, 30.69, "nope")
    # a category the analysis's standards do not judge on foot: which ones they do
    with pytest.raises(InputError, match="足球场地（“football_pitch”）没有步行可达规则") as err:
        score_site(saved, "football_pitch", 104.08, 30.69)
    assert "有步行可达规则的类别：" in str(err.value) and "、幼儿园、" in str(err.value)
    with language("en"):
        with pytest.raises(InputError, match="outside the study area"):
            score_site(saved, "kindergarten", 116.4, 39.9)
        with pytest.raises(InputError, match="Did you mean 'kindergarten'"):
            score_site(saved, "kindergarden", 104.08, 30.69)
        with pytest.raises(InputError, match="holds no site"):
            recommend(saved, "kindergarten", 2, candidates=empty)
        with pytest.raises(InputError, match="not an analysis folder"):
            load_analysis(tmp_path)


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
            "--crs",
            "wgs84",
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
    assert result["method"].startswith("精确求解（PuLP/CBC，")
    bad = CliRunner().invoke(
        main, ["score", "--analysis", folder, "--category", "kindergarten", "--at", "116.4,39.9"]
    )
    assert bad.exit_code == 2
    assert "位于本次分析的研究范围" in bad.output
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
    assert "文件中没有数据行" in bad.output


def test_rerunning_score_or_recommend_writes_a_new_folder(saved, tmp_path):
    """Without --out, each run writes a new <analysis>/score, score-2, ... (and recommend)."""
    copy = tmp_path / "analysis"
    shutil.copytree(saved.folder, copy)
    score = ["score", "--analysis", str(copy), "--category", "kindergarten", "--at", "104.08,30.69"]
    recommend = ["recommend", "--analysis", str(copy), "--category", "kindergarten", "--count", "1"]
    for args in (score, score, recommend, recommend):
        run = CliRunner().invoke(main, args)
        assert run.exit_code == 0, run.output
    written = sorted(p.name for p in copy.iterdir() if p.is_dir())
    assert written == ["recommend", "recommend-2", "score", "score-2"]
    assert (copy / "score" / "score.json").read_bytes() == (
        copy / "score-2" / "score.json"
    ).read_bytes()


def _english_words(text: str) -> set[str]:
    """Words of 3+ ASCII letters in a message, less quoted values (“...”), commands
    (`...`), paths and file names."""
    text = re.sub(r"“[^”]*”|`[^`]*`|\S*/\S*|\w+\.\w+", "", text)
    return set(re.findall(r"[A-Za-z_]\w{2,}", text))


def test_siting_errors_leave_no_english_under_zh(saved, tmp_path):
    allowed = {"crs", "wgs84", "gcj02", "bd09", "count", "analysis", "FILE", "boundaries"}
    allowed |= set(saved.standards.category_ids) | {r.id for r in saved.standards.rules}
    calls = [
        lambda: score_site(saved, "kindergarden", 104.08, 30.69),
        lambda: score_site(saved, "kindergarten", 116.4, 39.9),
        lambda: score_site(saved, "kindergarten", 104.08, 30.69, "nope"),
        lambda: recommend(saved, "kindergarten", 0),
        lambda: load_analysis(tmp_path),
        lambda: saved.parts("street"),
    ]
    for call in calls:
        with pytest.raises(InputError) as err:
            call()
        assert _english_words(str(err.value)) <= allowed, str(err.value)
