"""Per-category and per-rule summaries of the results, as ``summary.json`` reports them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.messages import current_language, say
from circles.rules.basis import NO_DATA, CategoryBasis, category_bases
from circles.standards import Standards


def summarise(
    standards: Standards,
    facilities: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    results: pd.DataFrame,
) -> dict:
    """Communities and population, and per category its data basis and rule results.

    Returns
    -------
    dict
        ``communities``, ``categories`` and ``no_data_categories``.
    """
    in_area = facilities.get("in_area")
    bases = category_bases(
        standards.category_ids,
        facilities["category_id"].to_numpy(),
        facilities["source"],
        in_area,
        standards.analysis.authoritative,
    )
    population = float(communities["population"].sum())
    categories = [
        _category_summary(standards, cat_id, bases[cat_id], facilities, results)
        | {"completeness": completeness(standards, cat_id, bases[cat_id], population)}
        for cat_id in standards.category_ids
    ]
    return {
        "communities": {
            "count": len(communities),
            "named": int(communities["name"].notna().sum()),
            "population": round(float(communities["population"].sum())),
            "population_estimated": bool(communities["population_estimated"].any()),
            "by_method": communities["population_method"].value_counts().to_dict(),
            "demand_points": len(demand),
        },
        "categories": categories,
        "no_data_categories": [c["category_id"] for c in categories if c["data"] == NO_DATA],
    }


def _category_summary(
    standards: Standards,
    category_id: str,
    basis: CategoryBasis,
    facilities: gpd.GeoDataFrame,
    results: pd.DataFrame,
) -> dict:
    """A category's facilities, data basis, median walk and rule results.

    The median walk is the district's under the category's first access rule, weighted as that
    rule counts residents: the number ``gaps.csv`` shows on that rule's district row.
    """
    cat = standards.category(category_id)
    fac = facilities[facilities["category_id"] == category_id]
    access = standards.access_rules(category_id)
    median = None
    if access and not basis.no_data:
        rows = results[(results["rule_id"] == access[0].id) & (results["unit_level"] == "district")]
        value = rows["median_dist_m"].iloc[0] if len(rows) else np.nan
        median = None if pd.isna(value) else round(float(value), 1)
    return {
        "category_id": category_id,
        "name_zh": cat.name.zh,
        "name_en": cat.name.en,
        "facilities": basis.in_area,
        "facilities_in_buffer": basis.facilities - basis.in_area,
        "matched_by_tag": int((fac["matched_by"] == "tag").sum()),
        "matched_by_name": int((fac["matched_by"] == "name").sum()),
        "from_planner": int(fac["source"].astype(str).str.startswith("planner").sum()),
        "data": basis.source,
        "authority": basis.authority,
        "median_dist_m": median,
        "rules": {rule.id: rule_summary(rule.id, results) for rule in standards.rules_of(cat.id)},
    }


def completeness(
    standards: Standards, category_id: str, basis: CategoryBasis, population: float
) -> dict | None:
    """How complete the category's OSM data looks: facilities in the study area per 10,000
    residents against the least a complete map holds (``standards.completeness``).

    ``None`` where no least provision is configured or there are no residents.
    """
    typical = standards.completeness.typical_per_10k.get(category_id)
    if typical is None or population <= 0:
        return None
    per_10k = basis.in_area / population * 1e4
    share = per_10k / typical.value
    return {
        "per_10k": round(per_10k, 3),
        "typical_per_10k": typical.value,
        "share_of_typical": round(share, 3),
        "plausible": bool(share >= standards.completeness.min_share),
        "source": typical.source.cite(),
        "document": typical.source.document,
    }


def completeness_warnings(summary: dict) -> list[str]:
    """A warning for each category found only in OSM whose OSM data looks incomplete, naming
    the planner's file that would fix it."""
    out = []
    residents = summary["communities"]["population"]
    for cat in summary["categories"]:
        found = cat.get("completeness")
        if cat["authority"] not in ("indicative", NO_DATA) or not found or found["plausible"]:
            continue
        name = cat["name_zh"] if current_language() == "zh" else cat["name_en"]
        out.append(
            say(
                "osm_incomplete",
                category=name,
                id=cat["category_id"],
                count=cat["facilities"],
                population=residents,
                per_10k=found["per_10k"],
                typical=found["typical_per_10k"],
                source=found["document"],
                example=f"{cat['name_zh']}.xlsx::category={cat['category_id']}",
            )
        )
    return out


def rule_summary(rule_id: str, results: pd.DataFrame) -> dict:
    """A rule's district result and how many units pass and fail it."""
    rows = results[results["rule_id"] == rule_id]
    district = rows[rows["unit_level"] == "district"]
    community = rows[rows["unit_level"] != "district"]  # communities, villages or streets
    out: dict = {
        "kind": rows["kind"].iloc[0] if len(rows) else None,
        "communities_failing": int((community["status"] == "fail").sum()),
        "communities_passing": int((community["status"] == "pass").sum()),
    }
    if len(district):
        value = district["value"].iloc[0]
        out["district_status"] = district["status"].iloc[0]
        out["district_value"] = None if pd.isna(value) else round(float(value), 4)
    elif len(community):
        statuses = set(community["status"])
        worst = next((s for s in ("fail", "incomplete", "not_evaluated") if s in statuses), None)
        out["district_status"] = NO_DATA if statuses == {NO_DATA} else worst or "pass"
    return out
