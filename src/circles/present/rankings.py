"""Ranked lists: per category, the communities and 街道 with the most residents beyond reach.

Each category is ranked by its main access rule (its first), residents counted as the rule
counts them (aged 60+ for elderly rules, children for childcare, all otherwise), from the
same demand points and the same measures as ``gaps.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.messages import say
from circles.rules.measures import beyond_as_inf, group_stats, rule_weights
from circles.standards import AccessRule

if TYPE_CHECKING:
    from circles.planning.saved import SavedAnalysis
    from circles.result import Analysis

Level = Literal["community", "street"]
RANK_COLUMNS = (
    "rank",
    "unit_id",
    "unit_name",
    "counted",
    "population",
    "uncovered",
    "share",
    "median_time_min",
    "worst_time_min",
    "nearest_facility",
)


def rankings(
    source: Analysis | SavedAnalysis,
    category_id: str,
    level: Level = "community",
    layers: RankingLayers | None = None,
) -> pd.DataFrame:
    """Communities or streets ranked by residents beyond the category's main access rule.

    Parameters
    ----------
    source
        An analysis just run, or one loaded from its folder (``load_analysis``).
    category_id
        The category, e.g. ``elderly_meal``.
    level
        ``community`` or ``street`` (empty without the planner's street boundaries).
    layers
        ``RankingLayers.of(source)``, to read a saved folder's layers once for many rankings.

    Returns
    -------
    DataFrame
        One row per unit with residents, worst first: ``rank``, ``unit_id``, ``unit_name``,
        ``counted`` (``total``, ``elderly`` or ``children``), ``population`` (counted
        residents), ``uncovered`` (of them, beyond the threshold), ``share`` (within it),
        ``median_time_min`` and ``worst_time_min`` (``inf`` beyond the search limit) and
        ``nearest_facility`` (name of the facility most of its residents walk to nearest);
        ``attrs`` hold ``rule_id`` and ``threshold_m``. Empty for a category without an
        access rule, or not judged (no data: no facility known).
    """
    std = source.standards
    rule = std.main_access_rule(category_id)
    layers = layers or RankingLayers.of(source)
    if rule is None or not _judged(layers.communities, rule).any():
        return pd.DataFrame(columns=RANK_COLUMNS)
    codes, units = _groups(layers, level, rule)
    demand = layers.demand
    weights, counted, _ = rule_weights(rule, demand)
    dist = beyond_as_inf(demand[f"dist_m.{category_id}"].to_numpy(float))
    inside = codes >= 0
    threshold = std.threshold_m(rule)
    stats = group_stats(codes[inside], len(units), dist[inside], weights[inside], threshold)
    minutes = std.m_to_minutes
    table = pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "unit_name": units["name"].to_numpy(),
            "counted": counted,
            "population": stats.total,
            "uncovered": stats.total - stats.inside,
            "share": stats.share,
            "median_time_min": minutes(stats.median, rule.threshold.profile),
            "worst_time_min": minutes(stats.worst, rule.threshold.profile),
            "nearest_facility": _nearest(layers, category_id, codes, weights, len(units)),
        }
    )
    table = table[table["population"] > 0]
    table = table.sort_values(["uncovered", "share"], ascending=[False, True], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table.attrs.update(rule_id=rule.id, threshold_m=threshold)
    return table.reset_index(drop=True)


@dataclass
class RankingLayers:
    """The layers rankings are made of, from an analysis or a saved analysis folder, and the
    street of each demand point once it is known (``-1``: none)."""

    communities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None
    street_codes: np.ndarray | None = None

    @classmethod
    def of(cls, source: Analysis | SavedAnalysis) -> RankingLayers:
        """The layers of ``source`` (read from ``analysis.gpkg`` for a saved folder)."""
        if hasattr(source, "demand_points"):
            return cls(source.communities, source.demand_points, source.facilities, source.streets)
        layers = [source.layer(n) for n in ("communities", "demand_points", "facilities")]
        return cls(*layers, source.streets)


def _groups(
    layers: RankingLayers, level: Level, rule: AccessRule
) -> tuple[np.ndarray, pd.DataFrame]:
    """Each demand point's unit (``-1``: none) and the units (``unit_id``, ``name``).

    Communities not judged on the rule (no status, e.g. at the extract's edge) are left out;
    demand points join the street polygon they lie in."""
    demand = layers.demand
    if level == "street":
        streets = layers.streets
        if streets is None or streets.empty:
            return np.full(len(demand), -1), pd.DataFrame({"unit_id": [], "name": []})
        streets = streets.to_crs(4326).reset_index(drop=True)
        if layers.street_codes is None:
            where = gpd.GeoSeries(demand.geometry, crs=4326).sindex.query(
                streets.geometry, predicate="contains"
            )
            layers.street_codes = np.full(len(demand), -1)
            layers.street_codes[where[1]] = where[0]  # on a shared border: the last street
        return layers.street_codes, streets[["unit_id", "name"]]
    comm = layers.communities
    judged = comm[_judged(comm, rule)]
    units = pd.DataFrame({"unit_id": judged["community_id"], "name": judged["name"]})
    units = units.reset_index(drop=True)
    codes = pd.Index(units["unit_id"]).get_indexer(demand["community_id"])
    return codes, units


def _judged(communities: pd.DataFrame, rule: AccessRule) -> np.ndarray:
    """The communities the rule was judged on (passed or failed; not no data, not the edge)."""
    status = f"{rule.id}.status"
    if status not in communities:
        return np.zeros(len(communities), bool)
    return communities[status].isin(["pass", "fail"]).to_numpy()


def _nearest(
    layers: RankingLayers, category_id: str, codes: np.ndarray, weights: np.ndarray, n: int
) -> np.ndarray:
    """Per unit, the name (else "unnamed (id)") of the facility most of its counted residents
    walk to nearest (``None`` where none is within the search limit)."""
    facility = layers.demand[f"facility.{category_id}"].to_numpy(dtype=object)
    ok = (codes >= 0) & pd.notna(facility)
    out = np.full(n, None, dtype=object)
    if not ok.any():
        return out
    sums = pd.DataFrame({"unit": codes[ok], "facility": facility[ok], "w": weights[ok]})
    sums = sums.groupby(["unit", "facility"], sort=False)["w"].sum().reset_index()
    best = sums.sort_values("w", ascending=False, kind="stable").drop_duplicates("unit")
    fac = layers.facilities.drop_duplicates("facility_id").set_index("facility_id")["name"]
    names = best["facility"].map(fac).to_numpy(dtype=object)
    unnamed = [say("unnamed", id=f) for f in best["facility"]]
    out[best["unit"].to_numpy(int)] = np.where(pd.notna(names), names, unnamed)
    return out
