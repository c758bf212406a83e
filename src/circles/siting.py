"""Score a proposed site, and recommend K new sites (maximal covering location problem)."""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field
from difflib import get_close_matches

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

from circles.errors import InputError
from circles.rules import weighted_median
from circles.standards import AccessRule
from circles.store import SavedAnalysis

log = logging.getLogger(__name__)

SERVICE_MINUTES = (5, 10, 15)
NOT_STREET = ("motorway", "motorway_link", "trunk", "trunk_link")
EXACT_MAX_CANDIDATES = 5000
EXACT_MAX_PAIRS = 300_000


def access_rules(
    saved: SavedAnalysis, category_id: str, rule_id: str | None = None
) -> list[AccessRule]:
    """The category's walking-access rules (one if ``rule_id`` is given), checked for typos."""
    ids = saved.standards.category_ids
    if category_id not in ids:
        close = get_close_matches(category_id, ids, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        msg = f"unknown category {category_id!r}.{hint} Known: {', '.join(ids)}."
        raise InputError(msg)
    rules = saved.standards.access_rules(category_id)
    if rule_id is not None:
        rules = [r for r in rules if r.id == rule_id]
        if not rules:
            known = ", ".join(r.id for r in saved.standards.access_rules(category_id))
            msg = f"unknown access rule {rule_id!r} for {category_id}; expected one of: {known}."
            raise InputError(msg)
    if not rules:
        msg = f"category {category_id!r} has no walking-access rule in the standards used."
        raise InputError(msg)
    return rules


@dataclass
class Site:
    """Where a site joins the network and its walking distance to every routing node."""

    lon: float
    lat: float
    xy: np.ndarray
    connector_m: float
    ends: tuple[int, int]  # the street piece's end nodes
    to_ends_m: tuple[float, float]  # walking distance from the site to each end
    node_dist_m: np.ndarray = field(repr=False)


def place_site(saved: SavedAnalysis, lon: float, lat: float, limit_m: float) -> Site:
    """Snap a WGS-84 point to the nearest street and search outwards from it.

    Two bounded searches, from both ends of the street piece it joins, give the exact
    distance to every node: every path leaves the piece through one of its ends.

    Raises
    ------
    InputError
        When the point lies outside the study area.
    """
    to_m = Transformer.from_crs("EPSG:4326", saved.crs, always_xy=True)
    xy = np.array(to_m.transform(lon, lat))
    if not saved.area_m.buffer(1.0).contains(shapely.Point(xy)):
        b = Transformer.from_crs(saved.crs, "EPSG:4326", always_xy=True).transform_bounds(
            *saved.area_m.bounds
        )
        msg = (
            f"site {lon:.6f},{lat:.6f} lies outside the study area of this analysis "
            f"({b[0]:.4f},{b[1]:.4f},{b[2]:.4f},{b[3]:.4f}). Check the point, its --crs "
            "(wgs84, gcj02, bd09) and lon,lat order."
        )
        raise InputError(msg)
    piece = saved.street[
        saved.street_tree.query_nearest(shapely.points(xy[None, :]), all_matches=False)[1][0]
    ]
    a, b = saved.edge_u[piece], saved.edge_v[piece]
    pa, pb = saved.node_xy[a], saved.node_xy[b]
    ab = pb - pa
    t = float(np.clip(np.dot(xy - pa, ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0))
    on = pa + t * ab
    connector = float(np.hypot(*(xy - on)))
    length = float(saved.edge_w[piece])
    to_a, to_b = connector + t * length, connector + (1 - t) * length
    d = dijkstra(saved.matrix, indices=[a, b], limit=limit_m)
    return Site(
        lon,
        lat,
        xy,
        connector,
        (int(a), int(b)),
        (to_a, to_b),
        np.minimum(to_a + d[0], to_b + d[1]),
    )


def _shares(saved: SavedAnalysis, dist: np.ndarray, threshold: float) -> np.ndarray:
    pop = saved.point_population
    n = len(saved.community_id)
    total = np.bincount(saved.point_community, pop, minlength=n)
    within = np.bincount(saved.point_community, pop * (dist <= threshold), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return within / total


def score_site(
    saved: SavedAnalysis,
    category_id: str,
    lon: float,
    lat: float,
    rule_id: str | None = None,
) -> dict:
    """Score one proposed facility: who newly falls within each rule's threshold.

    Returns
    -------
    dict
        ``site``, ``connector_m``, ``nearest_existing_m`` (network distance to the nearest
        facility of the category, ``None`` beyond the search limit) and per rule:
        ``newly_covered_population``, ``communities_newly_passing`` and median / worst
        walking time before and after.
    """
    rules = access_rules(saved, category_id, rule_id)
    std = saved.standards
    limit = max(std.threshold_m(r.threshold) for r in rules)
    site = place_site(saved, lon, lat, max(limit, service_limit_m(saved, rules)))
    return _score(saved, category_id, rules, site)[0]


def service_speed(saved: SavedAnalysis, rules: list[AccessRule]) -> float:
    """Walking speed of a category's service areas: its first rule in minutes, else adult."""
    profile = next((r.threshold.profile for r in rules if r.threshold.profile), "adult")
    return saved.standards.profiles[profile].speed_m_s


def service_limit_m(saved: SavedAnalysis, rules: list[AccessRule]) -> float:
    """Distance of the largest service-area ring (15 minutes at the category's speed)."""
    return max(SERVICE_MINUTES) * 60 * service_speed(saved, rules)


def _score(
    saved: SavedAnalysis, category_id: str, rules: list[AccessRule], site: Site
) -> tuple[dict, np.ndarray]:
    """Score of a placed site, and the demand points it newly covers under the first rule."""
    std = saved.standards
    old = saved.point_dist(category_id)
    old = np.where(np.isnan(old), np.inf, old)
    new_site = site.node_dist_m[saved.point_node] + saved.point_connector_m
    new = np.minimum(old, new_site)
    pop = saved.point_population
    no_data = not (saved.facility_category == category_id).any()
    out_rules = []
    first_newly = np.empty(0, np.int64)
    for rule in rules:
        threshold = std.threshold_m(rule.threshold)
        speed = std.profiles[rule.threshold.profile or "adult"].speed_m_s
        before = _shares(saved, old, threshold)
        after = _shares(saved, new, threshold)
        ok_before = before >= rule.target_share - 1e-9
        ok_after = after >= rule.target_share - 1e-9
        changed = np.flatnonzero(ok_after & ~ok_before)
        newly = (old > threshold) & (new_site <= threshold)
        if not out_rules:
            first_newly = np.flatnonzero(newly)

        def minutes(d: float, speed: float = speed) -> float | None:
            return None if not np.isfinite(d) else round(d / speed / 60, 2)

        out_rules.append(
            {
                "rule_id": rule.id,
                "threshold_m": round(threshold, 1),
                "newly_covered_population": round(float(pop[newly].sum()), 1),
                "newly_covered_points": int(newly.sum()),
                "communities_newly_passing": [
                    {
                        "community_id": saved.community_id[i],
                        "name": saved.community_name[i],
                        "before": "no_data" if no_data else "fail",
                    }
                    for i in changed
                ],
                "median_time_min_before": minutes(weighted_median(old, pop)),
                "median_time_min_after": minutes(weighted_median(new, pop)),
                "worst_time_min_before": minutes(old.max()),
                "worst_time_min_after": minutes(new.max()),
            }
        )
    # nearest existing facility: every walk leaves the site's street piece through an end
    existing = saved.node_dist(category_id)
    (a, b), (to_a, to_b) = site.ends, site.to_ends_m
    nearest = float(min(to_a + existing[a], to_b + existing[b]))
    return {
        "category_id": category_id,
        "site": [round(site.lon, 6), round(site.lat, 6)],
        "connector_m": round(site.connector_m, 2),
        "nearest_existing_m": round(nearest, 1) if np.isfinite(nearest) else None,
        "existing_facilities": int((saved.facility_category == category_id).sum()),
        "rules": out_rules,
    }, first_newly


@dataclass
class SiteScores:
    """Scores of several sites, ranked by newly covered population under the first rule."""

    table: pd.DataFrame
    scores: list[dict]
    sites: list[Site]
    newly_points: list[np.ndarray]
    speed_m_s: float


def score_sites(
    saved: SavedAnalysis,
    category_id: str,
    lonlat: np.ndarray,
    names: list[str] | None = None,
    rule_id: str | None = None,
) -> SiteScores:
    """Score many proposed sites (one placement and two bounded searches each) and rank them."""
    rules = access_rules(saved, category_id, rule_id)
    limit = max(
        max(saved.standards.threshold_m(r.threshold) for r in rules), service_limit_m(saved, rules)
    )
    names = names or [f"site {i + 1}" for i in range(len(lonlat))]
    scores, sites, newly = [], [], []
    for lon, lat in lonlat:
        site = place_site(saved, float(lon), float(lat), limit)
        score, points = _score(saved, category_id, rules, site)
        scores.append(score)
        sites.append(site)
        newly.append(points)
    rows = []
    for name, score in zip(names, scores, strict=True):
        row = {
            "name": name,
            "lon": score["site"][0],
            "lat": score["site"][1],
            "nearest_existing_m": score["nearest_existing_m"],
        }
        for r in score["rules"]:
            row[f"newly_covered.{r['rule_id']}"] = r["newly_covered_population"]
            row[f"communities_newly_passing.{r['rule_id']}"] = len(r["communities_newly_passing"])
        rows.append(row)
    table = pd.DataFrame(rows)
    key = f"newly_covered.{rules[0].id}"
    order = table[key].to_numpy().argsort(kind="stable")[::-1]
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return SiteScores(
        table=table,
        scores=[scores[i] for i in order],
        sites=[sites[i] for i in order],
        newly_points=[newly[i] for i in order],
        speed_m_s=service_speed(saved, rules),
    )


def service_areas(
    saved: SavedAnalysis,
    node_dist: np.ndarray,
    speed_m_s: float,
    minutes: tuple[int, ...] = SERVICE_MINUTES,
    buffer_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Walking service areas: reachable street pieces (cut at the threshold), buffered, merged.

    Parameters
    ----------
    node_dist
        Walking distance from the origin(s) to every routing node.
    speed_m_s
        Walking speed converting minutes to metres.
    """
    idx = saved.street
    u, v, w = saved.edge_u[idx], saved.edge_v[idx], saved.edge_w[idx]
    pu, pv = saved.node_xy[u], saved.node_xy[v]
    du, dv = node_dist[u], node_dist[v]
    rows = []
    for minute in minutes:
        limit = minute * 60 * speed_m_s
        reach_u = np.clip(limit - du, 0, w)
        reach_v = np.clip(limit - dv, 0, w)
        full = reach_u + reach_v >= w
        from_u = ~full & (reach_u > 0)
        from_v = ~full & (reach_v > 0)
        lines = [
            np.stack([pu[full], pv[full]], axis=1),
            np.stack([pu[from_u], pu[from_u] + (pv - pu)[from_u] * (reach_u / w)[from_u, None]], 1),
            np.stack([pv[from_v], pv[from_v] + (pu - pv)[from_v] * (reach_v / w)[from_v, None]], 1),
        ]
        segments = shapely.linestrings(np.concatenate(lines))
        area = shapely.union_all(shapely.buffer(segments, buffer_m, quad_segs=4))
        rows.append({"minutes": minute, "distance_m": round(limit, 1), "geometry": area})
    return gpd.GeoDataFrame(rows, crs=saved.crs).to_crs("EPSG:4326")


# ---------------------------------------------------------------------------------------------
# Recommending K sites
# ---------------------------------------------------------------------------------------------


def auto_candidates(saved: SavedAnalysis, near_m: float = 50.0) -> np.ndarray:
    """Street nodes of the main network inside or within ``near_m`` of residential land.

    Motorway and trunk nodes, nodes in water and nodes of disconnected pieces are excluded.
    """
    idx = saved.street[~np.isin(saved.edge_highway[saved.street], NOT_STREET)]
    nodes = np.unique(np.concatenate([saved.edge_u[idx], saved.edge_v[idx]]))
    xy = saved.node_xy[nodes]
    communities = saved.layer("communities").to_crs(saved.crs)
    near = shapely.STRtree(communities.geometry.values).query(
        shapely.points(xy), predicate="dwithin", distance=near_m
    )[0]
    nodes = nodes[np.unique(near)]
    water = saved.layer("water") if "water" in _layers(saved) else None
    if water is not None and len(water):
        wet = shapely.STRtree(water.to_crs(saved.crs).geometry.values).query(
            shapely.points(saved.node_xy[nodes]), predicate="within"
        )[0]
        nodes = np.delete(nodes, np.unique(wet))
    return nodes


def _layers(saved: SavedAnalysis) -> list[str]:
    import pyogrio

    return [name for name, _ in pyogrio.list_layers(saved.folder / "analysis.gpkg")]


def coverage_matrix(
    saved: SavedAnalysis, nodes: np.ndarray, points: np.ndarray, threshold_m: float
) -> csr_array:
    """Which demand points each candidate node covers within ``threshold_m`` (sparse, 0/1).

    Bounded searches from the candidates, in chunks so that memory stays small.
    """
    n = saved.matrix.shape[0]
    chunk = max(1, int(2e7 // n))
    point_node = saved.point_node[points]
    connector = saved.point_connector_m[points]
    rows, cols = [], []
    for start in range(0, len(nodes), chunk):
        block = nodes[start : start + chunk]
        dist = dijkstra(saved.matrix, indices=block, limit=threshold_m)
        hit = dist[:, point_node] + connector[None, :] <= threshold_m
        r, c = np.nonzero(hit)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return csr_array((np.ones(len(r)), (r, c)), shape=(len(nodes), len(points)))


def greedy_mclp(
    cover: csr_array, weights: np.ndarray, k: int, conflicts: list[np.ndarray] | None = None
) -> list[int]:
    """Lazy greedy (CELF) for the maximal covering location problem.

    ``conflicts[j]`` lists candidates too close to ``j`` to be chosen with it.
    """
    covered = np.zeros(cover.shape[1], bool)
    gains = cover @ weights
    heap = [(-g, j) for j, g in enumerate(gains) if g > 0]
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


def exact_mclp(
    cover: csr_array,
    weights: np.ndarray,
    k: int,
    conflicts: list[np.ndarray] | None = None,
    time_limit_s: float = 60.0,
) -> tuple[list[int], str]:
    """Solve the maximal covering location problem exactly with PuLP + CBC.

    Returns the chosen candidates and the solver status (``Optimal`` when proven).
    """
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
    if conflicts is not None:
        for j, near in enumerate(conflicts):
            if len(near):
                prob += pulp.lpSum(x[m] for m in near) <= len(near) * (1 - x[j])
    solver = pulp.COIN_CMD(path=cbcbox.cbc_bin_path(), msg=False, timeLimit=time_limit_s)
    status = prob.solve(solver)
    chosen = [j for j in range(n_cand) if (x[j].value() or 0) > 0.5]
    return chosen, pulp.LpStatus[status]


@dataclass
class Recommendation:
    """Chosen sites with their marginal gains, the method that ran, and what stays uncovered."""

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
    site_xy: np.ndarray = field(repr=False)  # metric, in rank order
    points_covered: np.ndarray = field(repr=False)  # demand points newly covered
    points_uncovered: np.ndarray = field(repr=False)  # demand points still beyond the threshold


def recommend(
    saved: SavedAnalysis,
    category_id: str,
    k: int,
    candidates: gpd.GeoDataFrame | str = "auto",
    min_spacing_m: float = 0.0,
    rule_id: str | None = None,
    method: str = "auto",
) -> Recommendation:
    """Choose ``k`` sites that newly cover the most residents within the rule's threshold.

    Parameters
    ----------
    candidates
        ``"auto"`` (street nodes in or next to residential land) or a GeoDataFrame of points.
    min_spacing_m
        Chosen sites are at least this far apart (straight line).
    method
        ``"auto"`` (exact when small enough, else lazy greedy), ``"exact"`` or ``"greedy"``.
    """
    started = time.perf_counter()
    if k < 1:
        msg = f"--count must be at least 1, got {k}."
        raise InputError(msg)
    rule = access_rules(saved, category_id, rule_id)[0]
    threshold = saved.standards.threshold_m(rule.threshold)
    old = saved.point_dist(category_id)
    old = np.where(np.isnan(old), np.inf, old)
    points = np.flatnonzero(old > threshold)
    weights = saved.point_population[points]

    if isinstance(candidates, str):
        nodes = auto_candidates(saved)
        xy = saved.node_xy[nodes]
        cover = coverage_matrix(saved, nodes, points, threshold)
    else:
        if candidates.empty:
            msg = "the candidate file holds no site; give at least one point."
            raise InputError(msg)
        sites = [place_site(saved, p.x, p.y, threshold) for p in candidates.to_crs(4326).geometry]
        xy = np.array([s.xy for s in sites])
        dist = np.array([s.node_dist_m[saved.point_node[points]] for s in sites])
        hit = dist + saved.point_connector_m[points][None, :] <= threshold
        cover = csr_array(hit.astype(float))
    useful = np.flatnonzero(np.diff(cover.indptr) > 0)  # candidates covering nobody drop out
    cover, xy = cover[useful], xy[useful]
    conflicts = None
    if min_spacing_m > 0:
        tree = cKDTree(xy)
        near_lists = tree.query_ball_point(xy, min_spacing_m)
        conflicts = [
            np.array([m for m in near if m != j], dtype=np.int64)
            for j, near in enumerate(near_lists)
        ]

    pairs = cover.nnz
    small = len(xy) <= EXACT_MAX_CANDIDATES and pairs <= EXACT_MAX_PAIRS
    chosen_greedy = greedy_mclp(cover, weights, k, conflicts)
    comparison = None
    if method == "exact" or (method == "auto" and small):
        chosen, status = exact_mclp(cover, weights, k, conflicts)
        used = f"exact (PuLP/CBC, {status})"
        best = _covered(cover, weights, chosen)
        got = _covered(cover, weights, chosen_greedy)
        comparison = {
            "exact_covered_population": round(best, 1),
            "greedy_covered_population": round(got, 1),
            "greedy_share_of_optimum": round(got / best, 4) if best > 0 else 1.0,
            "solver_status": status,
        }
    else:
        chosen = chosen_greedy
        used = "lazy greedy" + (
            ""
            if method == "greedy"
            else f" (instance too large for exact: {len(xy)} candidates, {pairs} covering pairs)"
        )

    # order chosen sites by marginal gain and describe them
    order, covered, rows = [], np.zeros(len(points), bool), []
    remaining = list(chosen)
    while remaining:
        gains = [weights[~covered & _row(cover, j)].sum() for j in remaining]
        j = remaining.pop(int(np.argmax(gains)))
        newly = ~covered & _row(cover, j)
        covered |= newly
        order.append(j)
        rows.append({"gain": float(weights[newly].sum()), "cum": float(weights[covered].sum())})
    to_wgs = Transformer.from_crs(saved.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(xy[order, 0], xy[order, 1]) if order else ([], [])
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "newly_covered_population": [round(r["gain"], 1) for r in rows],
            "cumulative_population": [round(r["cum"], 1) for r in rows],
        }
    )
    final = old.copy()
    final[points[covered]] = np.minimum(final[points[covered]], threshold)
    shares = _shares(saved, final, threshold)
    failing = [
        saved.community_name[i] or saved.community_id[i]
        for i in np.flatnonzero(shares < rule.target_share - 1e-9)
    ]
    return Recommendation(
        sites=table,
        method=used,
        rule_id=rule.id,
        threshold_m=threshold,
        uncovered_before=float(weights.sum()),
        uncovered_after=float(weights[~covered].sum()),
        communities_still_failing=failing,
        greedy_vs_exact=comparison,
        candidates=len(xy),
        seconds=time.perf_counter() - started,
        site_xy=xy[order] if order else np.empty((0, 2)),
        points_covered=points[covered],
        points_uncovered=points[~covered],
    )


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
