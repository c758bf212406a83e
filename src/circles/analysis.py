"""Run the stages in order (OSM -> network -> facilities -> communities -> access -> rules)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from circles import __version__
from circles.access import CategoryAccess, RoutingGraph, nearest_facility, routing_graph
from circles.communities import buildings_from_osm, communities_from_osm, estimate_population
from circles.errors import EmptyAreaError
from circles.facilities import add_facilities, facilities_from_osm
from circles.network import Network, network_from_extract
from circles.osm import WGS84, OsmExtract, is_water, read_extract
from circles.rules import NO_DATA, evaluate_rules
from circles.standards import Lang, Standards, load_standards

log = logging.getLogger(__name__)


@dataclass
class Analysis:
    """Everything one run produced; GeoDataFrames are WGS-84.

    Attributes
    ----------
    communities
        Communities with population and, per rule, ``<rule_id>.status`` / ``.value`` /
        ``.shortfall``.
    facilities
        Facilities with category, source and how they join the network.
    demand_points
        Demand points with ``dist_m.<category_id>`` and ``facility.<category_id>``.
    network
        Walking network edges.
    results
        One row per unit (community or district) and rule.
    summary
        Run metadata, network statistics, per-category and per-rule summaries.
    """

    standards: Standards
    lang: Lang
    crs: CRS
    area_m: BaseGeometry
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    demand_points: gpd.GeoDataFrame
    network: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    results: pd.DataFrame
    summary: dict
    warnings: list[str] = field(default_factory=list)
    graph: RoutingGraph | None = None
    access: dict[str, CategoryAccess] = field(default_factory=dict)

    def write(self, out_dir: str | Path, inputs: list[Path] | None = None) -> list[Path]:
        """Write ``analysis.gpkg``, ``gaps.csv`` and ``summary.json`` into ``out_dir``."""
        from circles.report import write_outputs  # report reads results, computes nothing

        return write_outputs(self, Path(out_dir), inputs or [])


def feature_keys(standards: Standards) -> set[str]:
    """Tag keys that make an OSM object worth keeping as a feature."""
    keys = {"name", "name:zh", "building", "landuse"}
    for cat in standards.categories.categories:
        for selector in cat.tags:
            keys.update(selector)
    return keys


def analyze(
    osm: str | Path,
    area: str | Path | BaseGeometry | None = None,
    standards: Standards | str | Path | None = None,
    lang: Lang = "zh",
    district_name: str | None = None,
    extra_facilities: gpd.GeoDataFrame | None = None,
) -> Analysis:
    """Analyse walking access to every facility category in a district.

    Parameters
    ----------
    osm
        OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf).
    area
        Study area: ``minlon,minlat,maxlon,maxlat``, a polygon file or a geometry; default
        the extract's data bounds.
    standards
        A ``Standards`` object or a YAML path; default ``configs/default.yaml``.
    lang
        Language of names in outputs: ``zh`` (default) or ``en``.
    district_name
        Name of the district; default the extract's file name.
    extra_facilities
        Facilities to add to those found in OSM: points with ``category_id`` and optionally
        ``name``, ``capacity``, ``area_m2``; marked ``source="planner"``.

    Returns
    -------
    Analysis
    """
    if not isinstance(standards, Standards):
        standards = load_standards(standards)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now
        log.info("%s done in %.2f s", stage, timings[stage])

    extract = read_extract(osm, feature_keys(standards), area)
    warnings = list(extract.warnings)
    lap("read_osm")
    network = network_from_extract(extract, standards.network)
    lap("network")
    crs = network.crs
    facilities = facilities_from_osm(extract.features, standards.categories, crs)
    if extra_facilities is not None and len(extra_facilities):
        facilities = add_facilities(facilities, extra_facilities, standards)
    lap("facilities")
    communities = communities_from_osm(extract.features, network.area_m, crs)
    if communities.empty:
        msg = (
            f"no residential area (landuse=residential) in the study area of {extract.path.name}; "
            "circles needs communities to place residents. Give a larger --area."
        )
        raise EmptyAreaError(msg)
    buildings = buildings_from_osm(extract.features, standards.population, crs)
    communities, demand = estimate_population(communities, buildings, standards.population)
    lap("communities")

    fac_m = facilities.to_crs(crs)
    fac_snap = network.snap(np.column_stack([fac_m.geometry.x, fac_m.geometry.y]))
    dem_snap = network.snap(np.column_stack([demand.geometry.x, demand.geometry.y]))
    graph = routing_graph(network, dem_snap, fac_snap)
    access: dict[str, CategoryAccess] = {}
    cat_codes = facilities["category_id"].to_numpy()
    for cat_id in tqdm(standards.category_ids, desc="access", unit="category", disable=None):
        rows = np.flatnonzero(cat_codes == cat_id)
        access[cat_id] = nearest_facility(
            graph, rows, dem_snap.connector_m, standards.search_limit_m(cat_id)
        )
    lap("access")

    district_id = district_name or Path(extract.path).name.split(".")[0]
    district = (district_id, district_name or district_id)
    results = evaluate_rules(
        standards,
        communities,
        demand,
        fac_m,
        access,
        (district_id, district_name or district_id, network.area_m),
    )
    lap("rules")

    far = standards.analysis.far_connector_m
    n_far = int((dem_snap.connector_m > far).sum())
    if n_far:
        warnings.append(
            f"{n_far} demand points are more than {far:.0f} m from the walking "
            "network; their walks include that straight connector"
        )
    if network.stats["pieces"] > 1:
        warnings.append(
            f"the walking network has {network.stats['pieces'] - 1} piece(s) disconnected from "
            f"the main one ({network.stats['other_pieces_nodes']} of {network.stats['nodes']} "
            "nodes); they are kept in the output but points are snapped to the main piece"
        )
    demand = _with_access(demand, dem_snap.connector_m, access, facilities)
    facilities = facilities.assign(
        connector_m=fac_snap.connector_m, network_node=graph.facility_node
    )
    communities = _with_rule_columns(communities, results)
    summary = {"district": {"id": district[0], "name": district[1]}} | _summary(
        standards, extract, network, facilities, communities, demand, results, timings, warnings
    )
    return Analysis(
        standards=standards,
        lang=lang,
        crs=crs,
        area_m=network.area_m,
        communities=communities.to_crs(WGS84),
        facilities=facilities,
        demand_points=demand.to_crs(WGS84),
        network=network.edges_gdf(),
        water=extract.features[extract.features["tags"].map(is_water)][
            ["osm_type", "osm_id", "geometry"]
        ],
        results=results,
        summary=summary,
        warnings=warnings,
        graph=graph,
        access=access,
    )


def _with_access(
    demand: gpd.GeoDataFrame,
    connector: np.ndarray,
    access: dict[str, CategoryAccess],
    facilities: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    columns = {"connector_m": connector}
    ids = facilities["facility_id"].to_numpy()
    for cat_id, acc in access.items():
        columns[f"dist_m.{cat_id}"] = acc.point_dist_m
        columns[f"facility.{cat_id}"] = np.where(
            acc.nearest_facility >= 0,
            ids[np.maximum(acc.nearest_facility, 0)] if len(ids) else None,
            None,
        )
    return demand.assign(**columns)


def _with_rule_columns(communities: gpd.GeoDataFrame, results: pd.DataFrame) -> gpd.GeoDataFrame:
    per_community = results[results["unit_level"] == "community"]
    wide = per_community.pivot(
        index="unit_id", columns="rule_id", values=["status", "value", "shortfall"]
    )
    wide.columns = [f"{rule}.{what}" for what, rule in wide.columns]
    wide = wide[sorted(wide.columns)]
    return communities.merge(wide, left_on="community_id", right_index=True, how="left")


def _rule_category(standards: Standards, rule: object) -> str | None:
    of_rule = getattr(rule, "of_rule", None)
    target = standards.rule(of_rule) if of_rule else rule
    return getattr(target, "category", None)


def _rule_summary(rule_id: str, results: pd.DataFrame) -> dict:
    rows = results[results["rule_id"] == rule_id]
    district = rows[rows["unit_level"] == "district"]
    community = rows[rows["unit_level"] == "community"]
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
        out["district_status"] = (
            "no_data" if statuses == {"no_data"} else ("fail" if "fail" in statuses else "pass")
        )
    return out


def _summary(
    standards: Standards,
    extract: OsmExtract,
    network: Network,
    facilities: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    results: pd.DataFrame,
    timings: dict[str, float],
    warnings: list[str],
) -> dict:
    categories = []
    for cat in standards.categories.categories:
        fac = facilities[facilities["category_id"] == cat.id]
        dist = demand[f"dist_m.{cat.id}"].to_numpy()
        categories.append(
            {
                "category_id": cat.id,
                "name_zh": cat.name.zh,
                "name_en": cat.name.en,
                "facilities": len(fac),
                "matched_by_tag": int((fac["matched_by"] == "tag").sum()),
                "matched_by_name": int((fac["matched_by"] == "name").sum()),
                "data": "no_data" if fac.empty else "osm",
                "median_dist_m": None
                if fac.empty or np.isnan(dist).all()
                else round(float(np.nanmedian(dist)), 1),
                "rules": {
                    rule.id: _rule_summary(rule.id, results)
                    for rule in standards.rules
                    if _rule_category(standards, rule) == cat.id
                },
            }
        )
    return {
        "circles_version": __version__,
        "input": {
            "osm": str(extract.path),
            "sha256": extract.sha256,
            "data_date": extract.data_date or None,
        },
        "study_area_wgs84_bounds": [round(v, 6) for v in extract.area.bounds],
        "extract_bounds_wgs84": [round(v, 6) for v in extract.bounds.bounds],
        "standards": {
            "path": standards.path,
            "name_zh": standards.name.zh,
            "name_en": standards.name.en,
        },
        "crs": network.crs.to_string(),
        "network": network.stats,
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
        "timings_s": timings,
        "warnings": warnings,
    }
