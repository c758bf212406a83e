"""Recommend K new sites: the maximal covering location problem, exact (PuLP/CBC) or lazy greedy."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cbcbox
import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import shapely
from pyproj import Transformer
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from circles.access.search import site_walks
from circles.errors import InputError
from circles.messages import say
from circles.planning.saved import SavedAnalysis
from circles.planning.score import access_rules, reach_site, site_columns, site_position
from circles.rules.evaluate import access_stats
from circles.rules.measures import meets, rule_weights
from circles.standards import AccessRule

NOT_STREET = ("motorway", "motorway_link", "trunk", "trunk_link")
EXACT_MAX_CANDIDATES = 5000
EXACT_MAX_PAIRS = 300_000
SOLVER_STATUS = {"Optimal": "out_cbc_optimal", "Not Solved": "out_cbc_not_solved",
                 "Infeasible": "out_cbc_infeasible", "Unbounded": "out_cbc_unbounded",
                 "Undefined": "out_cbc_undefined"}  # fmt: skip


def auto_candidates(saved: SavedAnalysis, near_m: float = 50.0) -> np.ndarray:
    """Street nodes of the main network inside or within ``near_m`` of residential land.

    Street nodes are network nodes and where homes join their nearest street (not their
    other joins, which would multiply the candidates). Motorway and trunk nodes, nodes in
    water and nodes of disconnected pieces are excluded.
    """
    graph = saved.state.graph
    idx = graph.street_pieces[~np.isin(graph.piece_highway[graph.street_pieces], NOT_STREET)]
    nodes = np.unique(np.concatenate([graph.edge_u[idx], graph.edge_v[idx]]))
    home_joins = graph.point_node[graph.point_starts] if graph.n_points else []
    nodes = nodes[(nodes < graph.n_network) | np.isin(nodes, home_joins)]
    communities = saved.layer("communities").to_crs(saved.crs)
    near = shapely.STRtree(communities.geometry.values).query(
        shapely.points(graph.node_xy[nodes]), predicate="dwithin", distance=near_m
    )[0]
    nodes = nodes[np.unique(near)]
    water = saved.layer("water")
    if len(water):
        wet = shapely.STRtree(water.to_crs(saved.crs).geometry.values).query(
            shapely.points(graph.node_xy[nodes]), predicate="within"
        )[0]
        nodes = np.delete(nodes, np.unique(wet))
    return nodes


def coverage_matrix(
    saved: SavedAnalysis, nodes: np.ndarray, points: np.ndarray, threshold_m: float
) -> csr_array:
    """Which demand points each candidate node covers within ``threshold_m`` (sparse, 0/1).

    Bounded searches from the candidates, in chunks so that memory stays small; and, as a
    site placed there would (``reach_site``), the points it reaches straight across a block
    (``attach_across_m``).
    """
    graph = saved.state.graph
    chunk = max(1, int(2e7 // graph.n_nodes))
    column = np.full(graph.n_points, -1)
    column[points] = np.arange(len(points))
    rows, cols = [], []
    for start in range(0, len(nodes), chunk):
        dist = dijkstra(graph.matrix, indices=nodes[start : start + chunk], limit=threshold_m)
        r, point = graph.points_within(dist, threshold_m)
        keep = column[point] >= 0
        rows.append(r[keep] + start)
        cols.append(column[point[keep]])
    across_m = min(saved.standards.analysis.attach_across_m, threshold_m)
    c, r, _ = graph.streets.across(
        graph.point_geoms[points], shapely.points(graph.node_xy[nodes]), across_m
    )
    r, c = np.concatenate([*rows, r]), np.concatenate([*cols, c])
    cover = csr_array((np.ones(len(r)), (r, c)), shape=(len(nodes), len(points)))
    return (cover > 0).astype(float)


def greedy_mclp(
    cover: csr_array, weights: np.ndarray, k: int, conflicts: list[np.ndarray] | None = None
) -> list[int]:
    """Lazy greedy (CELF) for the maximal covering location problem.

    ``conflicts[j]`` lists candidates too close to ``j`` to be chosen with it.
    """
    covered = np.zeros(cover.shape[1], bool)
    heap = [(-g, j) for j, g in enumerate(cover @ weights) if g > 0]
    heapq.heapify(heap)
    banned = np.zeros(cover.shape[0], bool)
    chosen: list[int] = []
    while heap and len(chosen) < k:
        _, j = heapq.heappop(heap)
        if banned[j]:
            continue
        cols = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        gain = weights[cols[~covered[cols]]].sum()
        if heap and gain < -heap[0][0] - 1e-9:
            heapq.heappush(heap, (-gain, j))
            continue
        if gain <= 0:
            break
        chosen.append(j)
        covered[cols] = True
        banned[j] = True
        if conflicts is not None:
            banned[conflicts[j]] = True
    return chosen


@dataclass
class ExactResult:
    """What CBC returned: the chosen candidates, whether they are proven optimal, PuLP's
    status (``Optimal``, ``Not Solved``...), whether a stopped run found a choice, and the
    upper bound on coverage that proves how far from optimal they can be."""

    chosen: list[int]
    proven: bool
    status: str
    bound: float
    found: bool = True

    def status_text(self) -> str:
        """The solver's status as a planner reads it, in the run's language."""
        text = say(SOLVER_STATUS.get(self.status, "out_cbc_undefined"))
        if self.proven:
            return text
        return say("out_cbc_stopped" if self.found else "out_cbc_no_solution", status=text)


def exact_mclp(
    cover: csr_array,
    weights: np.ndarray,
    k: int,
    conflicts: list[np.ndarray] | None = None,
    time_limit_s: float = 60.0,
    start: list[int] | None = None,
) -> ExactResult:
    """Solve the maximal covering location problem with PuLP + CBC, warm-started from
    ``start`` (e.g. the greedy choice).

    A run stopped by ``time_limit_s`` is not proven optimal: its ``bound`` is then the LP
    relaxation's coverage (an upper bound on any choice), else the coverage found.
    """
    prob, x = _mclp_problem(cover, weights, k, conflicts)
    for j in start or []:
        x[j].setInitialValue(1)
    solver = pulp.COIN_CMD(
        path=cbcbox.cbc_bin_path(), msg=False, timeLimit=time_limit_s, warmStart=bool(start)
    )
    status = pulp.LpStatus[prob.solve(solver)]
    proven = prob.sol_status == pulp.LpSolutionOptimal
    found = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    chosen = [j for j in range(cover.shape[0]) if (x[j].value() or 0) > 0.5] if found else []
    if not _feasible(chosen, k, conflicts):  # a stopped CBC may leave values that break rules
        chosen, found, proven = [], False, False
    if proven:
        return ExactResult(chosen, True, status, _covered(cover, weights, chosen))
    bound = max(_relaxed_bound(cover, weights, k), _covered(cover, weights, chosen))
    return ExactResult(chosen, False, status, bound, found)


def _feasible(chosen: list[int], k: int, conflicts: list[np.ndarray] | None) -> bool:
    """Whether a choice keeps to ``k`` sites and to their spacing."""
    picked = set(chosen)
    return len(chosen) <= k and not any(
        picked.intersection(conflicts[j].tolist()) for j in chosen if conflicts
    )


def _mclp_problem(
    cover: csr_array, weights: np.ndarray, k: int, conflicts: list[np.ndarray] | None
) -> tuple[pulp.LpProblem, list]:
    """The MCLP as a PuLP problem: binary sites ``x``, covered shares ``y`` of the points."""
    n_cand, n_pts = cover.shape
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(n_cand)]
    y = [prob.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(n_pts)]
    prob += pulp.lpSum(float(weights[i]) * y[i] for i in range(n_pts))
    by_point = cover.T.tocsr()
    for i in range(n_pts):
        cands = by_point.indices[by_point.indptr[i] : by_point.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[j] for j in cands)
    prob += pulp.lpSum(x) <= k
    for j, near in enumerate(conflicts or []):
        if len(near):
            prob += pulp.lpSum(x[m] for m in near) <= len(near) * (1 - x[j])
    return prob, x


def _relaxed_bound(cover: csr_array, weights: np.ndarray, k: int) -> float:
    """Coverage of the LP relaxation without spacing: no choice of ``k`` sites covers more."""
    prob, x = _mclp_problem(cover, weights, k, None)
    for var in x:
        var.cat = pulp.LpContinuous
    prob.solve(pulp.COIN_CMD(path=cbcbox.cbc_bin_path(), msg=False))
    return float(pulp.value(prob.objective) or 0.0)


@dataclass
class Recommendation:
    """Chosen sites with their marginal gains, the method that ran, and what stays uncovered.

    Residents are counted as the rule counts them (all, aged 60+, or children).
    """

    sites: pd.DataFrame
    method: str
    rule_id: str
    threshold_m: float
    uncovered_before: float
    uncovered_after: float
    communities_still_failing: list[str]
    greedy_vs_exact: dict | None
    candidates: int
    seconds: float
    counted: str = "total"
    weighting: str = ""
    site_xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)
    points_covered: np.ndarray = field(default_factory=lambda: np.empty(0, int), repr=False)
    points_uncovered: np.ndarray = field(default_factory=lambda: np.empty(0, int), repr=False)


def recommend(
    saved: SavedAnalysis,
    category_id: str,
    k: int,
    candidates: gpd.GeoDataFrame | str = "auto",
    min_spacing_m: float = 0.0,
    rule_id: str | None = None,
    method: str = "auto",
    dist: np.ndarray | None = None,
    progress: Callable[[str], None] | None = None,
) -> Recommendation:
    """Choose ``k`` sites that newly cover the most residents within the rule's threshold,
    residents counted as the rule counts them.

    Parameters
    ----------
    candidates
        ``"auto"`` (street nodes in or next to residential land) or a GeoDataFrame of points.
    min_spacing_m
        Chosen sites are at least this far apart (straight line).
    method
        ``"auto"`` (exact when small enough, else lazy greedy), ``"exact"`` or ``"greedy"``.
    dist
        Every demand point's walk to the category before the new sites, ``inf`` beyond the
        search limit (a scenario's); default the analysis's.
    progress
        Called with the stage that starts: ``"candidates"`` (and their coverage), ``"solving"``.
    """
    started = time.perf_counter()
    if k < 1:
        raise InputError(say("out_count_positive", k=k))
    rule = access_rules(saved, category_id, rule_id)[0]
    threshold = saved.standards.threshold_m(rule)
    old = saved.state.point_dist(category_id) if dist is None else dist
    points = np.flatnonzero(old > threshold)
    all_weights, counted, note = rule_weights(rule, saved.state.demand)
    weights = all_weights[points]
    report = progress or (lambda _: None)
    report("candidates")
    xy, cover = _candidates(saved, candidates, points, threshold)
    useful = np.flatnonzero(np.diff(cover.indptr) > 0)  # candidates covering nobody drop out
    cover, xy = cover[useful], xy[useful]
    labels = _candidate_labels(candidates, useful)
    conflicts = _conflicts(xy, min_spacing_m)
    report("solving")
    chosen, used, comparison = _solve(cover, weights, k, conflicts, method)
    order, gains = _by_marginal_gain(cover, weights, chosen)
    covered = np.zeros(len(points), bool)
    for j in order:
        covered |= _row(cover, j)
    final = old.copy()
    final[points[covered]] = np.minimum(final[points[covered]], threshold)
    return Recommendation(
        sites=_sites_table(saved, xy[order], gains, labels.iloc[order]),
        method=used,
        rule_id=rule.id,
        threshold_m=threshold,
        uncovered_before=float(weights.sum()),
        uncovered_after=float(weights[~covered].sum()),
        communities_still_failing=_failing(saved, rule, final, all_weights),
        greedy_vs_exact=comparison,
        candidates=len(xy),
        seconds=time.perf_counter() - started,
        counted=counted,
        weighting=note,
        site_xy=xy[order] if order else np.empty((0, 2)),
        points_covered=points[covered],
        points_uncovered=points[~covered],
    )


def _candidates(
    saved: SavedAnalysis,
    candidates: gpd.GeoDataFrame | str,
    points: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, csr_array]:
    """Candidate positions (metric) and the demand points each covers."""
    graph = saved.state.graph
    if isinstance(candidates, str):
        nodes = auto_candidates(saved)
        return graph.node_xy[nodes], coverage_matrix(saved, nodes, points, threshold)
    if candidates.empty:
        raise InputError(say("out_no_candidates"))
    wgs84 = candidates.to_crs(4326).geometry
    xy = np.array([site_position(saved, p.x, p.y) for p in wgs84]).reshape(-1, 2)
    dist = np.array([site_walks(graph, reach_site(saved, p, threshold)) for p in xy])
    hit = dist[:, points] <= threshold
    return xy, csr_array(hit.astype(float))


def _conflicts(xy: np.ndarray, min_spacing_m: float) -> list[np.ndarray] | None:
    """For each candidate, the others closer than ``min_spacing_m`` (straight line)."""
    if min_spacing_m <= 0:
        return None
    near_lists = cKDTree(xy).query_ball_point(xy, min_spacing_m)
    return [
        np.array([m for m in near if m != j], dtype=np.int64) for j, near in enumerate(near_lists)
    ]


def _solve(
    cover: csr_array,
    weights: np.ndarray,
    k: int,
    conflicts: list[np.ndarray] | None,
    method: str,
    time_limit_s: float = 60.0,
) -> tuple[list[int], str, dict | None]:
    """Chosen candidates, the method that ran, and greedy's result against the exact one
    (the better of the two is chosen; CBC starts from greedy's choice)."""
    pairs, n = cover.nnz, cover.shape[0]
    small = n <= EXACT_MAX_CANDIDATES and pairs <= EXACT_MAX_PAIRS
    greedy = greedy_mclp(cover, weights, k, conflicts)
    if not (method == "exact" or (method == "auto" and small)):
        if method == "greedy":
            return greedy, say("out_method_greedy"), None
        return greedy, say("out_method_greedy_large", n=n, pairs=pairs), None
    exact = exact_mclp(cover, weights, k, conflicts, time_limit_s, start=greedy)
    best, got = _covered(cover, weights, exact.chosen), _covered(cover, weights, greedy)
    chosen = exact.chosen if best >= got else greedy  # a stopped solver may do worse
    found = max(best, got)
    comparison = {
        "exact_covered_population": round(best, 1),
        "greedy_covered_population": round(got, 1),
        "greedy_share_of_optimum": round(got / found, 4) if found > 0 else 1.0,
        "solver_status": exact.status_text(),
        "proven_optimal": exact.proven,
        "upper_bound_population": round(max(exact.bound, found), 1),
        "optimality_gap": round(1 - found / exact.bound, 4) if exact.bound > found else 0.0,
    }
    gap = comparison["optimality_gap"]
    proof = say("out_proven_optimal") if exact.proven else say("out_gap_at_most", gap=gap)
    kept = "" if chosen is exact.chosen else say("out_greedy_kept")
    method = say("out_method_exact", status=exact.status_text(), proof=proof, kept=kept)
    return chosen, method, comparison


def _by_marginal_gain(
    cover: csr_array, weights: np.ndarray, chosen: list[int]
) -> tuple[list[int], list[tuple[float, float]]]:
    """The chosen sites ordered by marginal gain, with (gain, cumulative) for each."""
    order, gains, covered = [], [], np.zeros(cover.shape[1], bool)
    remaining = list(chosen)
    while remaining:
        j = remaining.pop(
            int(np.argmax([weights[~covered & _row(cover, m)].sum() for m in remaining]))
        )
        newly = ~covered & _row(cover, j)
        covered |= newly
        order.append(j)
        gains.append((float(weights[newly].sum()), float(weights[covered].sum())))
    return order, gains


def _candidate_labels(candidates: gpd.GeoDataFrame | str, kept: np.ndarray) -> pd.DataFrame:
    """The ``site_id`` and ``name`` of the kept candidates of a file (empty for ``auto``), and
    the datum each was given in (``given_crs``)."""
    if isinstance(candidates, str):
        return pd.DataFrame(index=range(len(kept)))
    columns = [c for c in ("site_id", "name", "given_crs") if c in candidates]
    labels = pd.DataFrame(candidates[columns]).iloc[kept].reset_index(drop=True)
    return labels.dropna(axis=1, how="all")


def _sites_table(
    saved: SavedAnalysis,
    xy: np.ndarray,
    gains: list[tuple[float, float]],
    labels: pd.DataFrame,
) -> pd.DataFrame:
    """Rank, the candidate's id and name (from a file), WGS-84 position, newly and
    cumulatively covered residents of each site, and where it lies (``site_columns``)."""
    to_wgs = Transformer.from_crs(saved.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1]) if len(xy) else ([], [])
    given = labels["given_crs"].tolist() if "given_crs" in labels else []
    labels = labels.drop(columns="given_crs", errors="ignore")
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(xy) + 1),
            **{c: labels[c].to_numpy() for c in labels},
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "newly_covered_population": [round(g, 1) for g, _ in gains],
            "cumulative_population": [round(c, 1) for _, c in gains],
        }
    )
    return pd.concat([table, site_columns(saved, lon, lat, given)], axis=1)


def _failing(
    saved: SavedAnalysis, rule: AccessRule, dist: np.ndarray, weights: np.ndarray
) -> list[str]:
    """Communities still below the rule's target with the recommended sites."""
    state = saved.state
    ids, names = state.communities["community_id"], state.communities["name"]
    per_community, _ = access_stats(
        saved.standards, rule, dist, weights, state.demand["community"], len(ids)
    )
    failing = (per_community.total > 0) & ~meets(per_community.share, rule.target_share)
    return [names[i] or ids[i] for i in np.flatnonzero(failing)]


def _row(cover: csr_array, j: int) -> np.ndarray:
    out = np.zeros(cover.shape[1], bool)
    out[cover.indices[cover.indptr[j] : cover.indptr[j + 1]]] = True
    return out


def _covered(cover: csr_array, weights: np.ndarray, chosen: list[int]) -> float:
    if not chosen:
        return 0.0
    hit = np.zeros(cover.shape[1], bool)
    for j in chosen:
        hit |= _row(cover, j)
    return float(weights[hit].sum())
