"""Rules: gaps where residents walk too far, "no data" where OSM has no such facility."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circles.rules.measures import group_stats, weighted_median


def test_far_community_is_reported_as_kindergarten_gap(chengdu):
    res = chengdu.results
    rule_id = next(
        r.id for r in chengdu.standards.access_rules("kindergarten") if r.threshold.unit == "m"
    )
    rows = res[(res["rule_id"] == rule_id) & (res["unit_level"] == "community")]
    worst = rows.sort_values("median_dist_m", ascending=False, na_position="first").iloc[0]
    assert worst["status"] == "fail"
    assert worst["shortfall"] > 0
    # independent check: no kindergarten within the threshold of any of its demand points
    pts = chengdu.demand_points[chengdu.demand_points["community_id"] == worst["unit_id"]]
    g = nx.Graph()
    gr = chengdu.state.graph
    for u, v, w in zip(gr.edge_u, gr.edge_v, gr.edge_w, strict=True):
        g.add_edge(int(u), int(v), weight=float(w))
    fac = chengdu.facilities
    kg_nodes = gr.facility_node[np.flatnonzero(fac["category_id"] == "kindergarten")]
    dist = nx.multi_source_dijkstra_path_length(g, {int(n) for n in kg_nodes})
    # every join of every point: node distance + that join's connector
    joins = np.flatnonzero(np.isin(gr.point_owner, pts["point_id"].to_numpy()))
    node_walk = np.array([dist.get(int(n), np.inf) for n in gr.point_node[joins]])
    walk = node_walk + gr.point_connector_m[joins]
    assert len(joins) >= len(pts)
    assert (walk > worst["threshold_m"]).all()


def test_absent_category_is_no_data_not_gap(real):
    # no day-care centre is mapped in either extract; national judges it (300 m)
    assert "elderly_daycare" in real.summary["no_data_categories"]
    rows = real.results[real.results["category_id"] == "elderly_daycare"]
    assert len(rows) > 0
    assert set(rows["status"]) == {"no_data"}
    cat = next(c for c in real.summary["categories"] if c["category_id"] == "elderly_daycare")
    assert cat["data"] == "no_data"
    assert all(r["communities_failing"] == 0 for r in cat["rules"].values())


def test_share_within_matches_demand_points(chengdu):
    res = chengdu.results
    rule = chengdu.standards.access_rules("kindergarten")[0]
    threshold = chengdu.standards.threshold_m(rule.threshold)
    dp = chengdu.demand_points
    within = dp["dist_m.kindergarten"].fillna(np.inf) <= threshold
    share = dp.loc[within, "population"].sum() / dp["population"].sum()
    district = res[(res["rule_id"] == rule.id) & (res["unit_level"] == "district")].iloc[0]
    assert district["value"] == np.float64(share) or abs(district["value"] - share) < 1e-12


def test_population_is_estimated_and_flagged(chengdu):
    com = chengdu.communities
    assert com["population_estimated"].all()
    assert (com["population"] > 0).all()
    assert set(com["population_method"]) <= {"buildings", "density", "building_cluster"}
    total = chengdu.demand_points["population"].sum()
    assert abs(total - com["population"].sum()) < 1e-6 * total


@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0.01, 100)), min_size=1, max_size=30))
def test_weighted_median_lies_within_values(pairs):
    values, weights = (np.array(v) for v in zip(*pairs, strict=True))
    m = weighted_median(values, weights)
    assert values.min() <= m <= values.max()


@given(st.floats(0, 5000), st.floats(0, 5000))
def test_larger_threshold_never_adds_gaps(t1, t2):
    rng = np.random.default_rng(0)
    dist = rng.uniform(0, 4000, 200)
    pop = rng.uniform(1, 50, 200)
    lo, hi = sorted((t1, t2))
    share_lo = pop[dist <= lo].sum() / pop.sum()
    share_hi = pop[dist <= hi].sum() / pop.sum()
    assert share_hi >= share_lo


@settings(max_examples=80, deadline=None)
@given(
    groups=st.lists(
        st.lists(
            st.tuples(
                st.one_of(st.floats(0, 5000), st.just(np.inf)),
                st.sampled_from([0.0, 1.0, 31.48, 43.743125, 250.5]),
            ),
            min_size=0,
            max_size=7,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_group_stats_match_per_group_computation(groups):
    """The vectorised per-community statistics equal a plain loop over communities."""
    codes = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]).astype(np.int64)
    dist = np.array([d for g in groups for d, _ in g], dtype=float)
    pop = np.array([w for g in groups for _, w in g], dtype=float)
    stats = group_stats(codes, len(groups), dist, pop, 300.0)
    for i, g in enumerate(groups):
        d = np.array([x for x, _ in g], dtype=float)
        w = np.array([x for _, x in g], dtype=float)
        assert stats.total[i] == pytest.approx(w.sum())
        assert stats.inside[i] == pytest.approx(w[d <= 300].sum())
        assert stats.reached[i] == pytest.approx(w[np.isfinite(d)].sum())
        assert stats.median[i] == pytest.approx(_plain_median(d, w), nan_ok=True)
        assert stats.worst[i] == pytest.approx(d.max() if len(d) else np.nan, nan_ok=True)


def _plain_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median by a loop: the smallest value whose cumulative weight reaches half
    (an exact half takes the lower value)."""
    if weights.sum() <= 0:
        return np.nan
    half, cum = weights.sum() / 2, 0.0
    for v, w in sorted(zip(values, weights, strict=True), key=lambda p: p[0]):
        cum += w
        if cum >= half * (1 - 1e-12):
            return v
    return np.nan


@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0.01, 100)), min_size=1, max_size=30))
def test_weighted_median_equals_plain_loop(pairs):
    values, weights = (np.array(v) for v in zip(*pairs, strict=True))
    assert weighted_median(values, weights) == pytest.approx(_plain_median(values, weights))
