"""Score proposed sites: who newly falls within each access rule, counted as the rule counts."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from circles.access.search import CategoryAccess, SiteReach, reach_from_site, site_walks_near
from circles.access.service_areas import SERVICE_MINUTES
from circles.errors import InputError
from circles.messages import current_language, say
from circles.planning.saved import SavedAnalysis
from circles.rules.basis import category_bases
from circles.rules.evaluate import access_stats
from circles.rules.measures import TOLERANCE, GroupStats, beyond_as_inf, meets, rule_weights
from circles.sources.coords import datum_columns, shifted_datums
from circles.standards import AccessRule, Standards


def access_rules(
    saved: SavedAnalysis, category_id: str, rule_id: str | None = None
) -> list[AccessRule]:
    """The category's walking-access rules (one if ``rule_id`` is given), checked for typos.

    Raises
    ------
    InputError
        Unknown category or rule, or a category without an access rule.
    """
    ids = saved.standards.category_ids
    if category_id not in ids:
        close = get_close_matches(category_id, ids, n=1)
        hint = say("out_did_you_mean", close=close[0]) if close else ""
        known = ", ".join(ids)
        raise InputError(
            say("out_unknown_category_known", category=category_id, hint=hint, known=known)
        )
    rules = saved.standards.access_rules(category_id)
    if rule_id is not None:
        rules = [r for r in rules if r.id == rule_id]
        if not rules:
            known = ", ".join(r.id for r in saved.standards.access_rules(category_id))
            msg = say("out_unknown_rule", rule=rule_id, category=category_id, known=known)
            raise InputError(msg)
    if not rules:
        std, lang = saved.standards, current_language()
        judged = [c for c in std.category_ids if std.access_rules(c)]
        names = say("src_sep").join(std.category(c).name(lang) for c in judged)
        msg = say(
            "out_no_access_rule",
            category=category_id,
            name=std.category(category_id).name(lang),
            profile=std.profile,
            judged=names,
        )
        raise InputError(msg)
    return rules


def site_position(saved: SavedAnalysis, lon: float, lat: float) -> np.ndarray:
    """A WGS-84 site in the analysis's metric CRS.

    Raises
    ------
    InputError
        When the point lies outside the study area.
    """
    to_m, area = _area(saved)
    xy = np.array(to_m.transform(lon, lat))
    if not area.contains(shapely.Point(xy)):
        b = Transformer.from_crs(saved.crs, "EPSG:4326", always_xy=True).transform_bounds(
            *saved.study_area_m.bounds
        )
        w, s, e, n = b
        raise InputError(say("out_outside_study_area", lon=lon, lat=lat, w=w, s=s, e=e, n=n))
    return xy


def _area(saved: SavedAnalysis) -> tuple[Transformer, shapely.Geometry]:
    """WGS-84 to metric, and the study area grown by 1 m, prepared (kept per analysis)."""
    if "area" not in saved.memo:
        area = saved.study_area_m.buffer(1.0)
        shapely.prepare(area)
        to_m = Transformer.from_crs("EPSG:4326", saved.crs, always_xy=True)
        saved.memo["area"] = (to_m, area)
    return saved.memo["area"]


def place_site(saved: SavedAnalysis, category_id: str, lon: float, lat: float) -> SiteReach:
    """Attach a WGS-84 site to the streets and search from it to the category's search limit
    (and at least to its largest service area, so that the rings can be drawn)."""
    std = saved.standards
    rings = std.minutes_to_m(max(SERVICE_MINUTES), std.category_profile(category_id))
    limit = max(_limit(saved, category_id), rings)
    return reach_site(saved, site_position(saved, lon, lat), limit)


def reach_site(saved: SavedAnalysis, xy: np.ndarray, limit_m: float) -> SiteReach:
    """Search from a metric site joined to the streets as the analysis joined a point
    facility (its ``attach_extra_m`` and ``attach_max_streets``), and linked to the homes
    across its block as facilities were (``attach_across_m``)."""
    s = saved.standards.analysis
    return reach_from_site(
        saved.state.graph, xy, limit_m, s.attach_extra_m, s.attach_max_streets, s.attach_across_m
    )


def _limit(saved: SavedAnalysis, category_id: str) -> float:
    """The category's search limit: where the analysis stopped searching."""
    return saved.state.access[category_id].limit_m


@dataclass
class Baseline:
    """One access rule's measures before a new site, kept per analysis: a site's change is
    then found from the points it reaches only (fast on a city).

    ``dist`` is every demand point's walk (``inf`` beyond the search limit), ``weights`` the
    residents the rule counts, ``community`` and ``district`` the measures; ``sorted_dist``
    and ``cum`` the walks in order and their cumulative weights (the district's median).
    """

    dist: np.ndarray
    weights: np.ndarray
    counted: str
    note: str
    community: GroupStats
    district: GroupStats
    sorted_dist: np.ndarray
    cum: np.ndarray
    no_data: bool


def baseline(
    saved: SavedAnalysis, category_id: str, rule: AccessRule, access: CategoryAccess | None = None
) -> Baseline:
    """A rule's measures on the analysis's walks, or on ``access`` (a scenario's search of
    the category, whose lists then count as checked, as ``run_scenario`` counts them); kept in
    ``saved.memo``, for a scenario the latest one only."""
    key = ("baseline", category_id, rule.id, access is None)
    kept = saved.memo.get(key)
    if kept is not None and kept[0] is access:
        return kept[1]
    std, state = saved.standards, saved.state
    old = state.point_dist(category_id) if access is None else beyond_as_inf(access.point_dist_m)
    weights, counted, note = rule_weights(rule, state.demand)
    codes, n = state.demand["community"], len(state.communities["community_id"])
    community, district = access_stats(std, rule, old, weights, codes, n)
    no_data = category_bases(
        std.category_ids,
        state.facilities["category"],
        state.facilities["source"],
        authoritative=std.analysis.authoritative,
    )[category_id].no_data
    found = Baseline(
        *(old, weights, counted, note, community, district, *_cumulative(old, weights)),
        no_data and access is None,
    )
    saved.memo[key] = (access, found)
    return found


def score_site(
    saved: SavedAnalysis,
    category_id: str,
    lon: float,
    lat: float,
    rule_id: str | None = None,
    access: CategoryAccess | None = None,
) -> dict:
    """Score one proposed facility: what changes for each access rule of its category, from
    the analysis as it stands or from ``access``, the category's search in a scenario.

    Returns
    -------
    dict
        ``site``, ``connector_m``, ``nearest_existing_m`` (walking distance to the nearest
        facility of the category, ``None`` beyond the search limit) and per rule (see
        ``rule_change``): residents newly within the threshold, counted as the rule counts
        them, the district's share before and after, communities newly passing, median and
        worst walk before and after.
    """
    rules = access_rules(saved, category_id, rule_id)
    site = place_site(saved, category_id, lon, lat)
    return _score(saved, category_id, rules, site, (lon, lat), access)[0]


def _score(
    saved: SavedAnalysis,
    category_id: str,
    rules: list[AccessRule],
    site: SiteReach,
    lonlat: tuple[float, float],
    access: CategoryAccess | None = None,
) -> tuple[dict, np.ndarray]:
    """Score of a placed site, and the demand points it newly covers under the first rule."""
    state = saved.state
    bases = [baseline(saved, category_id, rule, access) for rule in rules]
    old = bases[0].dist
    points, walk = site_walks_near(state.graph, site, _limit(saved, category_id))
    nearer = walk < old[points]
    points, walk = points[nearer], walk[nearer]
    changes = [
        rule_change(saved, rule, base, points, walk)
        for rule, base in zip(rules, bases, strict=True)
    ]
    threshold = saved.standards.threshold_m(rules[0])
    first_newly = points[(old[points] > threshold) & (walk <= threshold)]
    # nearest existing facility: every walk leaves the site's street pieces through an end
    existing = saved.node_dist(category_id) if access is None else access.node_dist_m
    nearest = float(np.min(site.to_ends_m + existing[site.ends]))
    in_category = state.facilities["category"] == category_id
    return {
        "category_id": category_id,
        "site": [round(lonlat[0], 6), round(lonlat[1], 6)],
        "connector_m": round(site.connector_m, 2),
        "nearest_existing_m": round(nearest, 1) if np.isfinite(nearest) else None,
        "existing_facilities": int(in_category.sum()),
        "rules": changes,
    }, first_newly


def rule_change(
    saved: SavedAnalysis, rule: AccessRule, base: Baseline, points: np.ndarray, walk: np.ndarray
) -> dict:
    """How one access rule's measures change when the demand points ``points`` (ascending)
    walk ``walk`` instead of ``base.dist``: the same measures ``circles analyze`` reports."""
    std, state = saved.standards, saved.state
    new = base.dist.copy()
    new[points] = walk
    codes, n = state.demand["community"], len(state.communities["community_id"])
    threshold = std.threshold_m(rule)
    before_c, before = base.community, base.district
    inside = base.weights * (new <= threshold)
    after_c = np.bincount(codes, inside, minlength=n)
    after = _district_after(base, points, walk, new, inside)
    newly = (base.dist[points] > threshold) & (walk <= threshold)
    has = before_c.total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share_c = np.where(has, after_c / before_c.total, np.nan)
    changed = np.flatnonzero(
        has & meets(share_c, rule.target_share) & ~meets(before_c.share, rule.target_share)
    )
    names, ids = state.communities["name"], state.communities["community_id"]
    passing = (
        has & meets(before_c.share, rule.target_share),
        has & meets(share_c, rule.target_share),
    )
    return {
        "rule_id": rule.id,
        "threshold_m": round(threshold, 1),
        "counted": base.counted,
        "weighting": base.note,
        "newly_covered_population": round(float(base.weights[points][newly].sum()), 1),
        "newly_covered_points": int(newly.sum()),
        "share_before": _round(before.share[0], 6),
        "share_after": _round(after.share[0], 6),
        "communities_passing_before": int(passing[0].sum()),
        "communities_passing_after": int(passing[1].sum()),
        "communities_newly_passing": [
            {
                "community_id": ids[i],
                "name": names[i],
                "before": "no_data" if base.no_data else "fail",
            }
            for i in changed
        ],
        **_walks(std, rule, before, "before"),
        **_walks(std, rule, after, "after"),
    }


def _district_after(
    base: Baseline, points: np.ndarray, walk: np.ndarray, new: np.ndarray, inside: np.ndarray
) -> GroupStats:
    """The district's measures once ``points`` walk ``walk`` (``new``: every walk), found as
    ``group_stats`` finds them but without sorting every walk again.

    The weighted median is the least walk ``v`` at which the weight walking at most ``v``
    reaches half the total: the old such weight, less the moved points' weight at their old
    walks, plus at their new walks (searched among the old walks and the new ones).
    """
    one = np.zeros(len(new), np.int64)
    total = base.district.total
    target = 0.5 * total[0] - TOLERANCE * max(float(base.cum[-1]), 1)
    w = base.weights[points]
    moved = [_cumulative(base.dist[points], w), _cumulative(walk, w)]

    def within(v: np.ndarray) -> np.ndarray:
        old, now = (_weight_within(sorted_, cum, v) for sorted_, cum in moved)
        return _weight_within(base.sorted_dist, base.cum, v) - old + now

    median = np.nan
    if total[0] > 0:
        lo, hi = 0, len(base.sorted_dist) - 1  # the old walks: the first that is enough
        while lo < hi:
            mid = (lo + hi) // 2
            enough = within(base.sorted_dist[mid : mid + 1])[0] >= target
            lo, hi = (lo, mid) if enough else (mid + 1, hi)
        enough = moved[1][0][within(moved[1][0]) >= target]
        median = min(base.sorted_dist[lo], enough[0] if len(enough) else np.inf)
    return GroupStats(
        total=total,
        inside=np.bincount(one, inside, minlength=1),
        reached=np.bincount(one, base.weights * np.isfinite(new), minlength=1),
        median=np.array([median]),
        worst=np.array([np.max(new) if len(new) else np.nan]),
    )


def _cumulative(dist: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walks sorted, and the weight walking less than each (one more: the total)."""
    order = np.argsort(dist, kind="stable")
    return dist[order], np.concatenate([[0.0], np.cumsum(weights[order])])


def _weight_within(sorted_dist: np.ndarray, cum: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The weight walking at most ``v`` (``sorted_dist`` ascending, ``cum`` from
    ``_cumulative``)."""
    return cum[np.searchsorted(sorted_dist, v, side="right")]


def _walks(std: Standards, rule: AccessRule, stats: GroupStats, when: str) -> dict:
    """The district's median and worst walk, in metres and minutes (``None`` beyond limit)."""
    out = {}
    profile = rule.threshold.profile
    for what in ("median", "worst"):
        d = float(getattr(stats, what)[0])
        finite = np.isfinite(d)
        out[f"{what}_dist_m_{when}"] = round(d, 1) if finite else None
        out[f"{what}_time_min_{when}"] = (
            round(float(std.m_to_minutes(d, profile)), 2) if finite else None
        )
    return out


def _round(value: float, digits: int) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits)


@dataclass
class SiteScores:
    """Scores of several sites, ranked by newly covered residents under the first rule."""

    table: pd.DataFrame
    scores: list[dict]
    sites: list[SiteReach]
    newly_points: list[np.ndarray]
    profile: str


def score_sites(
    saved: SavedAnalysis,
    category_id: str,
    lonlat: np.ndarray,
    names: list[str] | None = None,
    rule_id: str | None = None,
    sites: pd.DataFrame | None = None,
) -> SiteScores:
    """Score many proposed sites (one attachment and two bounded searches each), ranked.

    ``sites``: the sites as read (``site_id``, ``given_crs``), whose ids the table keeps and
    whose datum it adds coordinates in (see ``site_columns``)."""
    rules = access_rules(saved, category_id, rule_id)
    names = names or [say("out_site_n", n=i + 1) for i in range(len(lonlat))]
    scores, placed, newly = [], [], []
    for lon, lat in lonlat:
        site = place_site(saved, category_id, float(lon), float(lat))
        score, points = _score(saved, category_id, rules, site, (float(lon), float(lat)))
        scores.append(score)
        placed.append(site)
        newly.append(points)
    table = _score_table(names, scores)
    if sites is not None and "site_id" in sites and sites["site_id"].notna().any():
        table.insert(0, "site_id", sites["site_id"].to_numpy())
    extra = site_columns(saved, table["lon"], table["lat"], _given(sites))
    table = pd.concat([table, extra], axis=1)
    order = table[f"newly_covered.{rules[0].id}"].to_numpy().argsort(kind="stable")[::-1]
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return SiteScores(
        table=table,
        scores=[scores[i] for i in order],
        sites=[placed[i] for i in order],
        newly_points=[newly[i] for i in order],
        profile=saved.standards.category_profile(category_id),
    )


def _score_table(names: list[str], scores: list[dict]) -> pd.DataFrame:
    """One row per site: position, nearest existing facility and per-rule gains."""
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
    return pd.DataFrame(rows)


def _given(sites: pd.DataFrame | None) -> list[str]:
    """The datums sites were given in (``given_crs``), if known."""
    return [] if sites is None or "given_crs" not in sites else sites["given_crs"].tolist()


def site_columns(
    saved: SavedAnalysis, lon: np.ndarray, lat: np.ndarray, given: list[str]
) -> pd.DataFrame:
    """Where WGS-84 sites lie, for colleagues: their community (``community``, or
    ``compound`` for OSM residential compounds) and 街道 (``street``, when the analysis had
    street boundaries), the polygon they fall in or else the nearest; and their coordinates
    in each GCJ-02/BD-09 datum of the planner's inputs (the sites' own, and the facility
    files' of the analysis) as ``gcj02_lon``/``gcj02_lat`` or ``bd09_lon``/``bd09_lat``."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(saved.crs)
    unit = "compound" if saved.summary.get("units") == "compound" else "community"
    columns = {unit: _place(saved.layer("communities"), points)}
    if saved.streets is not None:
        columns["street"] = _place(saved.streets, points)
    facilities = saved.layer("facilities")
    datums = [*given, *facilities.get("given_crs", [])]
    columns |= datum_columns(lon, lat, shifted_datums(datums))
    return pd.DataFrame(columns)


def _place(units: gpd.GeoDataFrame, points: gpd.GeoSeries) -> np.ndarray:
    """The name (else id) of the unit each metric point lies in, else of the nearest one."""
    if units.empty or not len(points):
        return np.full(len(points), None, dtype=object)
    units = units.to_crs(points.crs).reset_index(drop=True)
    ids = units["community_id"] if "community_id" in units else units["unit_id"]
    names = units["name"].where(units["name"].notna(), ids).to_numpy(dtype=object)
    nearest = units.sindex.nearest(points.values, return_all=False)[1]
    return names[nearest]
