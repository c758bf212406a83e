"""The four rule kinds -> per-community and per-district results; "no data" kept apart from gaps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.access import CategoryAccess
from circles.standards import (
    AccessRule,
    CoverageRateRule,
    PerCapitaRule,
    PresenceRule,
    Standards,
)

PASS, FAIL, NO_DATA, NOT_EVALUATED = "pass", "fail", "no_data", "not_evaluated"
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
    "note",
]


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Population-weighted median; values may be ``inf`` (beyond the search horizon)."""
    if len(values) == 0 or weights.sum() <= 0:
        return np.nan
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    # an exact half between equal weights takes the lower value (allowing for rounding)
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1] - 1e-9 * max(cum[-1], 1))])


def _finite_or_nan(x: float) -> float:
    return x if np.isfinite(x) else np.nan


def evaluate_rules(
    standards: Standards,
    communities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    access: dict[str, CategoryAccess],
    district: tuple[str, str, shapely.Geometry],
    streets: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Evaluate every rule per community, per street (where boundaries are given) and for
    the district.

    A rule on a category with no facility in the study area gets status ``no_data``: absent
    OSM data is not evidence of a gap. Rules on streets get ``not_evaluated`` when no street
    boundaries were given.

    Parameters
    ----------
    standards
        The standards profile.
    communities, demand, facilities
        Metric-CRS tables (``population`` on communities and demand points; ``elderly`` and
        ``children`` on demand points where known). Facilities may carry ``in_area``
        (inside the district, not in its buffer): only those count for presence and supply.
    access
        Search result per category id.
    district
        ``(id, name, polygon)`` of the district (the study area).
    streets
        Street (街道) polygons with ``unit_id`` and ``name``, metric CRS.

    Returns
    -------
    DataFrame
        One row per unit and rule, columns ``RESULT_COLUMNS``.
    """
    rows: list[dict] = []
    parts: list[pd.DataFrame] = []
    pop_total = float(communities["population"].sum())
    any_estimated = bool(communities["population_estimated"].any())
    district_id, district_name, _ = district
    count_of = facilities.groupby("category_id").size()  # reachable ones, buffer included
    in_area = (
        facilities["in_area"].to_numpy(bool)
        if "in_area" in facilities
        else np.ones(len(facilities), bool)
    )
    count_in = facilities[in_area].groupby("category_id").size()
    units_street, fac_street = _street_units(streets, demand, facilities)
    unit_district = {
        "unit_level": "district",
        "unit_id": district_id,
        "unit_name": district_name,
        "population": pop_total,
        "population_estimated": any_estimated,
    }
    units_community = communities[
        ["community_id", "name", "population", "population_estimated"]
    ].rename(columns={"community_id": "unit_id", "name": "unit_name"})
    units_community.insert(0, "unit_level", "community")

    # facility -> community (point in polygon)
    f_idx, c_idx = shapely.STRtree(communities.geometry.values).query(
        facilities.geometry.values, predicate="within"
    )
    fac_community = pd.Series(communities["community_id"].to_numpy()[c_idx], index=f_idx)

    for rule in standards.rules:
        common = {"rule_id": rule.id, "kind": rule.kind, "note": ""}
        if isinstance(rule, AccessRule):
            parts.append(pd.DataFrame(rows))
            rows = []
            parts.append(
                _access_rows(
                    standards,
                    rule,
                    units_community,
                    unit_district,
                    demand,
                    access[rule.category],
                    int(count_of.get(rule.category, 0)),
                    common,
                )
            )
        elif isinstance(rule, PresenceRule):
            n_cat = int(count_in.get(rule.category, 0))
            base = {
                **common,
                "category_id": rule.category,
                "target": rule.min_count,
                "shortfall_unit": "facilities",
                "facilities": n_cat,
            }
            in_cat = facilities["category_id"].to_numpy() == rule.category
            if rule.unit == "street" and units_street is None:
                rows.append(
                    {
                        **unit_district,
                        **base,
                        "status": NOT_EVALUATED,
                        "note": "street boundaries not given (--boundaries)",
                    }
                )
            elif rule.unit == "street":
                counts = fac_street[in_cat[fac_street.index]].value_counts()
                for unit in units_street.to_dict("records"):
                    rows.append(
                        _presence(unit, base, int(counts.get(unit["unit_id"], 0)), rule, n_cat)
                    )
            elif rule.unit == "community":
                counts = fac_community[in_cat[fac_community.index]].value_counts()
                for unit in units_community.to_dict("records"):
                    rows.append(
                        _presence(unit, base, int(counts.get(unit["unit_id"], 0)), rule, n_cat)
                    )
            else:
                rows.append(_presence(unit_district, base, n_cat, rule, n_cat))
        elif isinstance(rule, PerCapitaRule):
            rows.extend(
                _per_capita_rows(
                    rule,
                    facilities,
                    in_area,
                    fac_community,
                    units_community,
                    unit_district,
                    common,
                    (units_street, fac_street),
                )
            )
    result = pd.concat([p for p in [*parts, pd.DataFrame(rows)] if len(p)], ignore_index=True)
    for rule in standards.rules:  # coverage rates read the per-community results above
        if isinstance(rule, CoverageRateRule):
            common = {"rule_id": rule.id, "kind": rule.kind, "note": ""}
            result = pd.concat(
                [
                    result,
                    pd.DataFrame([_coverage_row(standards, rule, result, unit_district, common)]),
                ],
                ignore_index=True,
            )
    return result.reindex(columns=RESULT_COLUMNS)


def _access_rows(
    standards: Standards,
    rule: AccessRule,
    units: pd.DataFrame,
    district: dict,
    demand: gpd.GeoDataFrame,
    acc: CategoryAccess,
    n_facilities: int,
    common: dict,
) -> pd.DataFrame:
    """One row per community (if the rule is per community) and one for the district.

    Vectorised over communities: a handful of array passes whatever their number.
    """
    threshold = standards.threshold_m(rule.threshold)
    profile = rule.threshold.profile or "adult"
    speed = standards.profiles[profile].speed_m_s
    dist = np.where(np.isnan(acc.point_dist_m), np.inf, acc.point_dist_m)
    pop, weight_note = _weights(rule, demand)
    codes, uniques = pd.factorize(demand["community_id"])
    frames = []
    if rule.unit == "community":
        stats = _group_stats(codes, len(uniques), dist, pop, threshold)
        at = pd.Index(uniques).get_indexer(units["unit_id"])  # -1: no demand point
        frame = pd.DataFrame({k: np.where(at >= 0, v[at], 0.0) for k, v in stats.items()})
        for k in ("median", "worst"):
            frame[k] = np.where(at >= 0, frame[k], np.nan)
        frames.append(pd.concat([units.reset_index(drop=True), frame], axis=1))
    stats = _group_stats(np.zeros(len(pop), np.int64), 1, dist, pop, threshold)
    frames.append(pd.concat([pd.DataFrame([district]), pd.DataFrame(stats)], axis=1))
    out = pd.concat(frames, ignore_index=True)
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
            threshold_min=threshold / speed / 60,
            profile=profile,
            target=rule.target_share,
            value=share,
            shortfall_unit="residents" if rule.population == "total" else rule.population,
            facilities=n_facilities,
            median_dist_m=median,
            worst_dist_m=worst,
            median_time_min=median / speed / 60,
            worst_time_min=worst / speed / 60,
            reached_share=np.where(total > 0, reached / total, np.nan),
        )
    ok = share >= rule.target_share - 1e-9
    out["status"] = np.where(total <= 0, NOT_EVALUATED, np.where(ok, PASS, FAIL))
    out["shortfall"] = np.where(
        total > 0, np.maximum(0.0, rule.target_share * total - inside), np.nan
    )
    out["note"] = np.where(total <= 0, "no residents", weight_note)
    if n_facilities == 0:
        out["status"], out["value"], out["shortfall"] = NO_DATA, np.nan, np.nan
        out["note"] = (
            "no facility of this category in the study area: missing data, not a measured gap"
        )
    return out


def _group_stats(
    codes: np.ndarray, n: int, dist: np.ndarray, pop: np.ndarray, threshold: float
) -> dict[str, np.ndarray]:
    """Per group: residents, residents within the threshold, residents reached within the
    search limit, population-weighted median distance and worst distance (``inf`` where
    beyond the search limit)."""
    total = np.bincount(codes, pop, minlength=n)
    if len(pop) == 0:
        zero, nan = np.zeros(n), np.full(n, np.nan)
        return {"total": zero, "inside": zero, "reached": zero, "median": nan, "worst": nan}
    order = np.lexsort((dist, codes))
    c, d, p = codes[order], dist[order], pop[order]
    start = np.searchsorted(c, np.arange(n))
    end = np.searchsorted(c, np.arange(n), side="right")
    cum = np.cumsum(p)
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    # first point at half the group's weight (less a rounding allowance: the cumulative sum
    # runs over all groups, and an exact half between equal weights takes the lower point)
    mid = np.searchsorted(
        cum, before + 0.5 * total - 1e-9 * np.maximum(cum[-1] if len(cum) else 0, 1)
    )
    has = (end > start) & (total > 0)
    mid = np.clip(mid, start, np.maximum(end - 1, start))
    return {
        "total": total,
        "inside": np.bincount(codes, pop * (dist <= threshold), minlength=n),
        "reached": np.bincount(codes, pop * np.isfinite(dist), minlength=n),
        "median": np.where(has, d[np.minimum(mid, len(d) - 1)], np.nan),
        "worst": np.where(end > start, d[np.maximum(end - 1, 0)], np.nan),
    }


WEIGHT_NAMES = {"elderly": "residents aged 60+", "children": "children"}


def _weights(rule: AccessRule, demand: gpd.GeoDataFrame) -> tuple[np.ndarray, str]:
    """Whose homes a rule counts: all residents, or the elderly / children where known."""
    total = demand["population"].to_numpy(float)
    if rule.population == "total":
        return total, ""
    what = WEIGHT_NAMES[rule.population]
    values = demand[rule.population].to_numpy(float) if rule.population in demand else None
    if values is None or np.isnan(values).any():
        return total, f"weighted by all residents: no counts of {what} in the communities"
    return values, f"weighted by {what}"


def _presence(unit: dict, base: dict, count: int, rule: PresenceRule, n_cat: int) -> dict:
    out = {**unit, **base, "value": count}
    if n_cat == 0:
        out.update(
            status=NO_DATA, value=np.nan, note="no facility of this category in the study area"
        )
    else:
        ok = count >= rule.min_count
        out.update(status=PASS if ok else FAIL, shortfall=max(0, rule.min_count - count))
    return out


def _per_capita_rows(
    rule: PerCapitaRule,
    facilities: gpd.GeoDataFrame,
    in_area: np.ndarray,
    fac_community: pd.Series,
    units_community: pd.DataFrame,
    district: dict,
    common: dict,
    street: tuple[pd.DataFrame | None, pd.Series],
) -> list[dict]:
    sel = facilities["category_id"].to_numpy() == rule.category
    values = facilities[rule.attribute].to_numpy(float)
    unit_label = "places" if rule.attribute == "capacity" else "m2"
    base = {
        **common,
        "category_id": rule.category,
        "target": rule.target,
        "shortfall_unit": unit_label,
    }

    def row(unit: dict, mask: np.ndarray) -> dict:
        n = int(mask.sum())
        known = mask & ~np.isnan(values)
        supply = float(values[known].sum())
        pop = unit["population"]
        out = {**unit, **base, "facilities": n}
        if n == 0 or not known.any():
            what = "facility" if n == 0 else f"value of '{rule.attribute}'"
            out.update(status=NO_DATA, note=f"no {what} for this category in the unit")
            return out
        rate = supply / pop * rule.per if pop > 0 else np.nan
        ok = rate >= rule.target
        note = (
            ""
            if known.sum() == n
            else f"{n - int(known.sum())} of {n} facilities lack '{rule.attribute}'"
        )
        out.update(
            value=rate,
            status=PASS if ok else FAIL,
            note=note,
            shortfall=max(0.0, rule.target * pop / rule.per - supply),
        )
        return out

    units_street, fac_street = street
    if rule.unit == "street" and units_street is None:
        note = "street boundaries not given (--boundaries)"
        return [{**district, **base, "status": NOT_EVALUATED, "note": note}]
    if rule.unit == "district":
        return [row(district, sel & in_area)]
    units, fac_unit = (
        (units_street, fac_street) if rule.unit == "street" else (units_community, fac_community)
    )
    rows = []
    for unit in units.to_dict("records"):
        in_unit = np.zeros(len(facilities), bool)
        in_unit[fac_unit.index[fac_unit.to_numpy() == unit["unit_id"]]] = True
        rows.append(row(unit, sel & in_unit))
    return rows


def _street_units(
    streets: gpd.GeoDataFrame | None, demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> tuple[pd.DataFrame | None, pd.Series]:
    """Street units with the population of the demand points inside, and facility -> street."""
    if streets is None or streets.empty:
        return None, pd.Series(dtype=object)
    tree = shapely.STRtree(streets.geometry.values)
    d_idx, s_idx = tree.query(demand.geometry.values, predicate="within")
    d_idx, first = np.unique(d_idx, return_index=True)  # a point on a shared border counts once
    s_idx = s_idx[first]
    pop = np.bincount(s_idx, demand["population"].to_numpy()[d_idx], minlength=len(streets))
    estimated = demand["population_estimated"].to_numpy(bool)
    est = np.bincount(s_idx, estimated[d_idx], minlength=len(streets)) > 0
    units = pd.DataFrame(
        {
            "unit_level": "street",
            "unit_id": streets["unit_id"].to_numpy(),
            "unit_name": streets["name"].to_numpy(),
            "population": pop,
            "population_estimated": est,
        }
    )
    f_idx, s_idx = tree.query(facilities.geometry.values, predicate="within")
    f_idx, first = np.unique(f_idx, return_index=True)
    fac_street = pd.Series(streets["unit_id"].to_numpy()[s_idx[first]], index=f_idx)
    return units, fac_street


def _coverage_row(
    standards: Standards, rule: CoverageRateRule, result: pd.DataFrame, district: dict, common: dict
) -> dict:
    of = result[(result["rule_id"] == rule.of_rule) & (result["unit_level"] == "community")]
    base = {
        **district,
        **common,
        "category_id": getattr(standards.rule(rule.of_rule), "category", None),
        "target": rule.target,
        "shortfall_unit": "communities" if rule.measure == "units" else "residents",
    }
    judged = of[of["status"].isin([PASS, FAIL])]
    if judged.empty:
        return {**base, "status": NO_DATA, "note": f"rule {rule.of_rule} has no data"}
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
        "status": PASS if value >= rule.target - 1e-9 else FAIL,
        "shortfall": shortfall,
    }
