"""The four rule kinds -> per-community and per-district results; "no data" kept apart from gaps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.access.search import CategoryAccess
from circles.messages import say
from circles.model.communities import street_of
from circles.rules.basis import NO_DATA, CategoryBasis, category_bases
from circles.rules.measures import GroupStats, beyond_as_inf, group_stats, meets, rule_weights
from circles.standards import (
    DEFAULT_PROFILE,
    AccessRule,
    AnyRule,
    CoverageRateRule,
    PerCapitaRule,
    PresenceRule,
    Standards,
)

PASS, FAIL, NOT_EVALUATED, INCOMPLETE = "pass", "fail", "not_evaluated", "incomplete"
RESULT_COLUMNS = [
    "unit_level",
    "unit_id",
    "unit_name",
    "population",
    "population_estimated",
    "rule_id",
    "kind",
    "category_id",
    "threshold_m",
    "threshold_min",
    "profile",
    "target",
    "value",
    "status",
    "shortfall",
    "shortfall_unit",
    "median_dist_m",
    "worst_dist_m",
    "median_time_min",
    "worst_time_min",
    "reached_share",
    "facilities",
    "basis",
    "note",
]


def evaluate_rules(
    standards: Standards,
    communities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    access: dict[str, CategoryAccess],
    district: tuple[str, str, shapely.Geometry],
    streets: gpd.GeoDataFrame | None = None,
    *,
    official_communities: bool = True,
    villages: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Evaluate every rule per community, per street and village (where boundaries are given)
    and for the district.

    A rule on a category with no known facility gets status ``no_data`` unless the category
    is authoritative (see ``circles.rules.basis``): absent data is not evidence of a gap.
    Rules on streets or villages get ``not_evaluated`` when no such boundaries were given, and
    rules
    defined per 社区 (presence and supply per community, coverage rates over communities)
    when the units are OSM residential compounds (小区) rather than the planner's 社区.
    Each row's ``basis`` says what the category's data rests on.

    Parameters
    ----------
    standards
        The standards profile.
    communities, demand, facilities
        Metric-CRS tables (``population`` on communities and demand points; ``elderly`` and
        ``children`` on demand points where known). Facilities carry ``source`` and may carry
        ``in_area`` (inside the district, not in its buffer): only those count for presence
        and supply.
    access
        Search result per category id.
    district
        ``(id, name, polygon)`` of the district (the study area).
    streets
        Street (街道) polygons with ``unit_id`` and ``name``, metric CRS.
    official_communities
        Whether ``communities`` are the planner's 社区 (else OSM residential compounds).
    villages
        Village (行政村) polygons with ``unit_id`` and ``name``, metric CRS.

    Returns
    -------
    DataFrame
        One row per unit and rule, columns ``RESULT_COLUMNS``.
    """
    boundaries = {"street": streets, "village": villages}
    units = _units(communities, demand, facilities, district, boundaries)
    in_area = (
        facilities["in_area"].to_numpy(bool)
        if "in_area" in facilities
        else np.ones(len(facilities), bool)
    )
    bases = category_bases(
        standards.category_ids,
        facilities["category_id"].to_numpy(),
        facilities["source"].to_numpy(),
        in_area,
        standards.analysis.authoritative,
    )
    parts = []
    for rule in standards.rules:
        common = {"rule_id": rule.id, "kind": rule.kind, "note": ""}
        common["basis"] = bases[standards.category_of(rule)].authority
        if not official_communities and needs_communities(rule):
            parts.append(_needs_communities(units, standards, rule, common))
        elif isinstance(rule, AccessRule):
            acc = access[rule.category]
            parts.append(_access_rows(standards, rule, units, demand, acc, bases, common))
        elif isinstance(rule, PresenceRule):
            parts.append(_presence_rows(rule, units, facilities, in_area, bases, common))
        elif isinstance(rule, PerCapitaRule):
            parts.append(_per_capita_rows(rule, units, facilities, in_area, bases, common))
    result = pd.concat([p for p in parts if len(p)], ignore_index=True)
    coverage = [  # coverage rates read the per-community (per-village) results above
        _coverage_row(standards, rule, result, units.district, bases)
        for rule in standards.rules
        if isinstance(rule, CoverageRateRule)
        and (official_communities or not needs_communities(rule))
    ]
    if coverage:
        result = pd.concat([result, pd.DataFrame(coverage)], ignore_index=True)
    return result.reindex(columns=RESULT_COLUMNS)


@dataclass
class Units:
    """The units rules are judged on, and which unit each facility lies in."""

    district: dict
    communities: pd.DataFrame
    fac_community: pd.Series  # facility row -> community id
    boundaries: dict[str, tuple[pd.DataFrame, pd.Series] | None]  # street / village units

    def of_level(self, level: str) -> tuple[pd.DataFrame, pd.Series] | None:
        """The units of a level (``community``, ``street``, ``village``) and facility row ->
        unit id; ``None`` for boundaries not given."""
        if level == "community":
            return self.communities, self.fac_community
        return self.boundaries[level]


def _boundaries_not_given(units: Units, base: dict, level: str) -> pd.DataFrame:
    """The district row of a rule per street or village when no such boundaries were given."""
    note = say("boundaries_missing", level=BOUNDARY_NAMES[level], level_en=level)
    return pd.DataFrame([{**units.district, **base, "status": NOT_EVALUATED, "note": note}])


BOUNDARY_NAMES = {"street": "街道", "village": "村"}
UNIT_PLURALS = {"community": "communities", "village": "villages"}  # a coverage rate's shortfall


def needs_communities(rule: AnyRule) -> bool:
    """Whether a rule is defined per 社区: presence or supply per community, or a coverage
    rate over communities. OSM residential compounds (小区) do not stand in for them."""
    if isinstance(rule, CoverageRateRule):
        return rule.over == "community"
    return isinstance(rule, PresenceRule | PerCapitaRule) and rule.unit == "community"


def _needs_communities(
    units: Units, standards: Standards, rule: AnyRule, common: dict
) -> pd.DataFrame:
    """The district row of a rule per 社区 when only OSM residential compounds are known."""
    note = say("needs_communities")
    row = {**units.district, **common, "category_id": standards.category_of(rule)}
    return pd.DataFrame([row | {"status": NOT_EVALUATED, "note": note}])


def _units(
    communities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    district: tuple[str, str, shapely.Geometry],
    boundaries: dict[str, gpd.GeoDataFrame | None],
) -> Units:
    """District, community, street and village units with their population."""
    district_id, district_name, _ = district
    communities = communities.assign(population_calibrated=_calibrated(communities))
    demand = demand.assign(population_calibrated=_calibrated(demand))
    unit_district = {
        "unit_level": "district",
        "unit_id": district_id,
        "unit_name": district_name,
        "population": float(communities["population"].sum()),
        "population_estimated": bool(communities["population_estimated"].any()),
        "population_calibrated": bool(communities["population_calibrated"].all()),
    }
    units_community = communities.reindex(
        columns=[
            "community_id",
            "name",
            "population",
            "population_estimated",
            "population_calibrated",
            "households",
        ]
    ).rename(columns={"community_id": "unit_id", "name": "unit_name"})
    units_community.insert(0, "unit_level", "community")
    f_idx, c_idx = shapely.STRtree(communities.geometry.values).query(
        facilities.geometry.values, predicate="within"
    )
    fac_community = pd.Series(communities["community_id"].to_numpy()[c_idx], index=f_idx)
    levels = {
        level: _boundary_units(level, polygons, demand, facilities)
        for level, polygons in boundaries.items()
    }
    return Units(unit_district, units_community, fac_community, levels)


def _calibrated(frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's population is official or calibrated (not a bare estimate)."""
    estimated = frame["population_estimated"].to_numpy(bool)
    if "population_calibrated" not in frame:
        return ~estimated
    return ~estimated | frame["population_calibrated"].fillna(False).to_numpy(bool)


def access_stats(
    standards: Standards,
    rule: AccessRule,
    dist_m: np.ndarray,
    weights: np.ndarray,
    community_codes: np.ndarray,
    n_communities: int,
) -> tuple[GroupStats, GroupStats]:
    """An access rule's measures per community and for the district.

    The one computation behind ``gaps.csv``, ``summary.json``, ``score`` and ``recommend``.

    Parameters
    ----------
    dist_m
        Walking distance of every demand point, ``inf`` beyond the search limit.
    weights
        The residents the rule counts at each point (``measures.rule_weights``).
    community_codes
        Community ``0..n_communities-1`` of every demand point.
    """
    threshold = standards.threshold_m(rule)
    per_community = group_stats(community_codes, n_communities, dist_m, weights, threshold)
    whole = group_stats(np.zeros(len(weights), np.int64), 1, dist_m, weights, threshold)
    return per_community, whole


def _access_rows(
    standards: Standards,
    rule: AccessRule,
    units: Units,
    demand: gpd.GeoDataFrame,
    acc: CategoryAccess,
    bases: dict[str, CategoryBasis],
    common: dict,
) -> pd.DataFrame:
    """One row per community (if the rule is per community) and one for the district."""
    weights, counted, weight_note = rule_weights(rule, demand)
    codes, uniques = pd.factorize(demand["community_id"])
    per_community, whole = access_stats(
        standards, rule, beyond_as_inf(acc.point_dist_m), weights, codes, len(uniques)
    )
    frames = []
    if rule.unit == "community":
        at = pd.Index(uniques).get_indexer(units.communities["unit_id"])  # -1: no demand point
        frames.append((units.communities.reset_index(drop=True), _take(per_community, at)))
    frames.append((pd.DataFrame([units.district]), whole))
    out = pd.concat([_stats_frame(u, s) for u, s in frames], ignore_index=True)
    common = common | {"shortfall_unit": "residents" if counted == "total" else counted}
    return _judge_access(standards, rule, out, bases[rule.category], weight_note, common)


def _take(stats: GroupStats, at: np.ndarray) -> GroupStats:
    """Stats of the groups ``at`` (``-1``: a unit without demand points)."""
    has = at >= 0

    def pick(values: np.ndarray, empty: float) -> np.ndarray:
        return np.where(has, values[at], empty)

    return GroupStats(
        pick(stats.total, 0.0),
        pick(stats.inside, 0.0),
        pick(stats.reached, 0.0),
        pick(stats.median, np.nan),
        pick(stats.worst, np.nan),
    )


def _stats_frame(units: pd.DataFrame, stats: GroupStats) -> pd.DataFrame:
    """Unit rows beside their measures."""
    columns = {"total": stats.total, "inside": stats.inside, "reached": stats.reached}
    columns |= {"median": stats.median, "worst": stats.worst}
    return pd.concat([units, pd.DataFrame(columns)], axis=1)


def _judge_access(
    standards: Standards,
    rule: AccessRule,
    out: pd.DataFrame,
    basis: CategoryBasis,
    weight_note: str,
    common: dict,
) -> pd.DataFrame:
    """Share, pass / fail / no data, shortfall and times of access rows."""
    threshold = standards.threshold_m(rule)
    profile = rule.threshold.profile or DEFAULT_PROFILE
    total, inside = out.pop("total").to_numpy(), out.pop("inside").to_numpy()
    median, worst = out.pop("median").to_numpy(), out.pop("worst").to_numpy()
    reached = out.pop("reached").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, inside / total, np.nan)
        median = np.where(np.isfinite(median), median, np.nan)
        worst = np.where(np.isfinite(worst), worst, np.nan)
        out = out.assign(
            **common,
            category_id=rule.category,
            threshold_m=threshold,
            threshold_min=standards.m_to_minutes(threshold, profile),
            profile=profile,
            target=rule.target_share,
            value=share,
            facilities=basis.facilities,
            median_dist_m=median,
            worst_dist_m=worst,
            median_time_min=standards.m_to_minutes(median, profile),
            worst_time_min=standards.m_to_minutes(worst, profile),
            reached_share=np.where(total > 0, reached / total, np.nan),
        )
    out["status"] = np.where(
        total <= 0, NOT_EVALUATED, np.where(meets(share, rule.target_share), PASS, FAIL)
    )
    out["shortfall"] = np.where(
        total > 0, np.maximum(0.0, rule.target_share * total - inside), np.nan
    )
    out["note"] = np.where(total <= 0, say("no_residents"), weight_note)
    if basis.no_data:
        out["status"], out["value"], out["shortfall"] = NO_DATA, np.nan, np.nan
        out["note"] = say("no_facility")
    return out


def _presence_rows(
    rule: PresenceRule,
    units: Units,
    facilities: gpd.GeoDataFrame,
    in_area: np.ndarray,
    bases: dict[str, CategoryBasis],
    common: dict,
) -> pd.DataFrame:
    """Facilities counted per unit against ``min_count``."""
    basis = bases[rule.category]
    base = {
        **common,
        "category_id": rule.category,
        "target": rule.min_count,
        "shortfall_unit": "facilities",
        "facilities": basis.in_area,
    }
    in_cat = facilities["category_id"].to_numpy() == rule.category
    return _unit_rows(
        rule,
        units,
        base,
        in_area,
        lambda unit, rows: _presence(unit, base, int(in_cat[rows].sum()), rule, basis),
    )


def _unit_rows(
    rule: PresenceRule | PerCapitaRule,
    units: Units,
    base: dict,
    in_area: np.ndarray,
    judge: Callable[[dict, np.ndarray], dict],
) -> pd.DataFrame:
    """A presence or supply rule's rows: per street or village (or "not evaluated" without
    such boundaries), per community or for the district. ``judge(unit, rows)`` judges one unit
    from the rows of the facilities inside it (grouped once, not searched per unit)."""
    if rule.unit == "district":
        return pd.DataFrame([judge(units.district, np.flatnonzero(in_area))])
    if units.of_level(rule.unit) is None:
        return _boundaries_not_given(units, base, rule.unit)
    table, fac_unit = units.of_level(rule.unit)
    inside = fac_unit.groupby(fac_unit.to_numpy()).indices  # unit id -> positions
    rows = fac_unit.index.to_numpy()
    none = np.empty(0, np.int64)
    return pd.DataFrame(
        [
            judge(unit, rows[inside[unit["unit_id"]]] if unit["unit_id"] in inside else none)
            for unit in table.to_dict("records")
        ]
    )


def _presence(unit: dict, base: dict, count: int, rule: PresenceRule, basis: CategoryBasis) -> dict:
    """One unit's presence row."""
    out = {**unit, **base, "value": count}
    if basis.no_data:
        out.update(status=NO_DATA, value=np.nan, note=say("no_facility"))
    else:
        ok = count >= rule.min_count
        out.update(status=PASS if ok else FAIL, shortfall=max(0, rule.min_count - count))
    return out


def _per_capita_rows(
    rule: PerCapitaRule,
    units: Units,
    facilities: gpd.GeoDataFrame,
    in_area: np.ndarray,
    bases: dict[str, CategoryBasis],
    common: dict,
) -> pd.DataFrame:
    """Supply (capacity, area, floor area or count) per ``per`` residents or households.

    Floor area counts only the planner's facilities (OSM maps footprints, not floors): without
    them the rule has no data. A category whose facilities all lack the attribute has no data
    in every unit, so a unit without facilities is not reported as a gap either.
    """
    base = {
        **common,
        "category_id": rule.category,
        "target": rule.target,
        "shortfall_unit": SUPPLY_UNITS[rule.attribute],
    }
    sel = facilities["category_id"].to_numpy() == rule.category
    uncounted = np.zeros(len(sel), bool)  # OSM facilities left out of a floor-area sum
    if rule.attribute == "floor_area_m2":
        planner = facilities["source"].astype(str).str.startswith("planner").to_numpy()
        sel, uncounted = sel & planner, sel & ~planner
    values = supply_values(facilities, rule.attribute)
    basis = bases[rule.category]
    never_known = rule.attribute == "floor_area_m2" and not sel.any()
    if never_known or (sel.any() and np.isnan(values[sel]).all()):
        basis = CategoryBasis(0, 0, UNKNOWN_VALUE)
    return _unit_rows(
        rule,
        units,
        base,
        in_area,
        lambda unit, rows: _supply(
            rule, unit, base, values, rows[sel[rows]], basis, int(uncounted[rows].sum())
        ),
    )


UNKNOWN_VALUE = "unknown_value"  # a basis whose facilities exist, but none with the attribute
SUPPLY_UNITS = {"capacity": "places", "area_m2": "m2", "floor_area_m2": "m2", "count": "facilities"}


def supply_values(facilities: pd.DataFrame, attribute: str) -> np.ndarray:
    """Each facility's supply: 1 for ``count``, else its ``attribute`` (``NaN`` where unknown;
    a column absent from the table, such as floor area without a planner's file, is unknown)."""
    if attribute == "count":
        return np.ones(len(facilities))
    if attribute not in facilities:
        return np.full(len(facilities), np.nan)
    return facilities[attribute].to_numpy(float)


def _supply(
    rule: PerCapitaRule,
    unit: dict,
    base: dict,
    values: np.ndarray,
    rows: np.ndarray,
    basis: CategoryBasis,
    uncounted: int = 0,
) -> dict:
    """One unit's per-capita row: the supply of its facilities ``rows`` per ``per`` residents
    (or households); ``uncounted`` OSM facilities of the unit were left out (floor area).

    A unit without a facility of a category that has data supplies nothing (a gap); facilities
    that all lack the attribute leave the value unknown (no data), and some lacking it leave
    it incomplete (数据不全): the known supply is a lower bound, a pass if it already meets the
    target, else no exact shortfall. On an estimated population that was not calibrated the
    note says the rate is indicative.
    """
    n = len(rows)
    known = rows[~np.isnan(values[rows])]
    supply = float(values[known].sum())
    out = {**unit, **base, "facilities": n}
    if basis.no_data or (n > 0 and not len(known)):
        what = (
            say("no_supply_facility")
            if basis.source == NO_DATA
            else say("no_supply_value", attribute=say(f"attr_{rule.attribute}"))
        )
        hint = say("floor_area_hint") if rule.attribute == "floor_area_m2" else ""
        out.update(status=NO_DATA, note=what + hint)
        return out
    size = _denominator(rule, unit)
    if not size > 0:
        note = say("no_households" if rule.of == "households" else "no_denominator")
        out.update(status=NOT_EVALUATED, note=note)
        return out
    rate = supply / size * rule.per
    missing = n - len(known)
    notes = []
    if missing:
        attribute = say(f"attr_{rule.attribute}")
        notes.append(say("lack_attribute", missing=missing, n=n, attribute=attribute))
    if uncounted:
        notes.append(say("osm_uncounted", n=uncounted))
    if unit.get("population_estimated") and not unit.get("population_calibrated", False):
        notes.append(say("indicative_population"))
    status = PASS if meets(rate, rule.target) else INCOMPLETE if missing else FAIL
    if status == INCOMPLETE:
        notes.append(say("supply_in_part"))
    out.update(
        value=rate,
        status=status,
        note=say("list_sep").join(notes),
        shortfall=np.nan
        if status == INCOMPLETE
        else max(0.0, rule.target * size / rule.per - supply),
    )
    return out


def _denominator(rule: PerCapitaRule, unit: dict) -> float:
    """The residents (or households) a per-capita rule divides by; ``NaN`` when unknown."""
    size = unit.get("households", np.nan) if rule.of == "households" else unit["population"]
    return np.nan if size is None else float(size)


def _boundary_units(
    level: str,
    polygons: gpd.GeoDataFrame | None,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, pd.Series] | None:
    """Street or village units with the population of the demand points inside, and
    facility row -> unit id; ``None`` when no such boundaries were given."""
    if polygons is None or polygons.empty:
        return None
    at = street_of(polygons, demand.geometry)  # a point on a shared border counts once
    d_idx, s_idx = np.flatnonzero(at >= 0), at[at >= 0]
    n = len(polygons)
    pop = np.bincount(s_idx, demand["population"].to_numpy()[d_idx], minlength=n)
    estimated = demand["population_estimated"].to_numpy(bool)
    bare = ~demand["population_calibrated"].to_numpy(bool)
    units = pd.DataFrame(
        {
            "unit_level": level,
            "unit_id": polygons["unit_id"].to_numpy(),
            "unit_name": polygons["name"].to_numpy(),
            "population": pop,
            "population_estimated": np.bincount(s_idx, estimated[d_idx], minlength=n) > 0,
            "population_calibrated": np.bincount(s_idx, bare[d_idx], minlength=n) == 0,
        }
    )
    tree = shapely.STRtree(polygons.geometry.values)
    f_idx, s_idx = tree.query(facilities.geometry.values, predicate="within")
    f_idx, first = np.unique(f_idx, return_index=True)
    return units, pd.Series(polygons["unit_id"].to_numpy()[s_idx[first]], index=f_idx)


def _coverage_row(
    standards: Standards,
    rule: CoverageRateRule,
    result: pd.DataFrame,
    district: dict,
    bases: dict[str, CategoryBasis],
) -> dict:
    """The share of communities or villages (or of their residents) that pass ``of_rule``."""
    of = result[(result["rule_id"] == rule.of_rule) & (result["unit_level"] == rule.over)]
    category = standards.category_of(rule)
    base = {
        **district,
        "rule_id": rule.id,
        "kind": rule.kind,
        "note": "",
        "basis": bases[category].authority,
        "category_id": category,
        "target": rule.target,
        "shortfall_unit": UNIT_PLURALS[rule.over] if rule.measure == "units" else "residents",
    }
    judged = of[of["status"].isin([PASS, FAIL])]
    if of.empty:
        note = say("no_units", level=BOUNDARY_NAMES[rule.over], level_en=rule.over)
        return {**base, "status": NOT_EVALUATED, "note": note}
    if judged.empty:
        return {**base, "status": NO_DATA, "note": say("rule_no_data", rule=rule.of_rule)}
    passed = judged["status"] == PASS
    if rule.measure == "units":
        value = passed.mean()
        shortfall = max(0.0, np.ceil(rule.target * len(judged) - passed.sum()))
    else:
        total = judged["population"].sum()
        value = judged.loc[passed, "population"].sum() / total
        shortfall = max(0.0, rule.target * total - judged.loc[passed, "population"].sum())
    return {
        **base,
        "value": value,
        "status": PASS if meets(value, rule.target) else FAIL,
        "shortfall": shortfall,
    }
