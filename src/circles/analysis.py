"""Run the stages in order (OSM -> network -> facilities -> communities -> access -> rules)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from circles import __version__
from circles.access import CategoryAccess, RoutingGraph, nearest_facility, routing_graph
from circles.communities import (
    buildings_from_osm,
    communities_from_osm,
    estimate_population,
    spread_population,
)
from circles.divisions import find_division
from circles.errors import EmptyAreaError, InputError
from circles.facilities import facilities_from_osm, merge_facilities, similar_names
from circles.inputs import (
    FileSpec,
    Problems,
    check_datum,
    read_boundaries,
    read_communities,
    read_facilities,
)
from circles.network import Network, network_from_extract
from circles.osm import WGS84, OsmExtract, is_water, parse_area, read_extract
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
    inputs: list[Path] = field(default_factory=list)  # never overwritten by ``write``

    def write(self, out_dir: str | Path, inputs: list[Path] | None = None) -> list[Path]:
        """Write ``analysis.gpkg``, ``gaps.xlsx``, ``gaps.csv`` and ``summary.json``."""
        from circles.report import write_outputs  # report reads results, computes nothing

        return write_outputs(self, Path(out_dir), [*self.inputs, *(inputs or [])])


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
    facilities: Sequence[str | Path | FileSpec | gpd.GeoDataFrame] = (),
    cache: bool = True,
    *,
    district: str | None = None,
    buffer_m: float | None = None,
    communities: str | Path | FileSpec | None = None,
    boundaries: str | Path | FileSpec | None = None,
    crs: str = "wgs84",
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
        Name of the district; default the division's name, else the extract's file name.
    facilities
        Planners' facility files (``FileSpec`` or ``path::options``, see ``circles.inputs``)
        or GeoDataFrames of points with ``category_id`` (and optionally ``name``,
        ``capacity``, ``area_m2``), merged with the OSM facilities.
    cache
        Reuse the parsed extract and built network of an earlier run on the same file and
        settings (see ``circles.cache``).
    district
        A district of China by name or code (西青区, 天津市西青区, 120111) as the study area.
    buffer_m
        Facilities and streets are read this far beyond the study area, so that residents near
        its edge reach facilities across it; default the largest walking threshold.
    communities
        Planner's communities with official population (replace the OSM-derived ones).
    boundaries
        Planner's street (街道) and district boundaries for per-street rules.
    crs
        Coordinates of the planners' files: ``wgs84``, ``gcj02``, ``bd09`` or ``EPSG:xxxx``
        (a file's own option or CRS comes first).

    Returns
    -------
    Analysis

    Raises
    ------
    InputError
        Any error in the input files, listed with file, row and column.
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

    problems = Problems()
    facility_files = [FileSpec.parse(f) for f in facilities if not isinstance(f, gpd.GeoDataFrame)]
    communities_spec = None if communities is None else FileSpec.parse(communities)
    boundaries = None if boundaries is None else FileSpec.parse(boundaries)
    input_paths = [Path(osm), *(f.path for f in facility_files)]
    input_paths += [s.path for s in (communities_spec, boundaries) if s is not None]
    study_area, district_id, district_name, units = _study_area(
        area, district, district_name, boundaries, crs, problems
    )
    planner_communities = (
        None if communities_spec is None else read_communities(communities_spec, crs, problems)
    )
    problems.raise_errors()
    if buffer_m is None:
        buffer_m = max(
            (standards.threshold_m(r.threshold) for r in standards.access_rules()), default=0
        )
    area = None if study_area is None else _buffer(study_area, buffer_m)

    extract = read_extract(osm, feature_keys(standards), area, cache=cache)
    warnings = list(extract.warnings)
    lap("read_osm")
    network = network_from_extract(extract, standards.network, cache=cache)
    lap("network")
    metric = network.crs
    inner_m = network.area_m
    if study_area is not None:
        inner_m = shapely.intersection(_to(study_area, metric), network.area_m)

    osm_facilities = facilities_from_osm(extract.features, standards.categories, metric)
    planner = [_planner_points(f, standards, crs, extract.bounds, problems) for f in facilities]
    problems.raise_errors()
    planner = pd.concat([osm_facilities.iloc[:0], *planner], ignore_index=True)
    planner = gpd.GeoDataFrame(planner, geometry="geometry", crs=WGS84)

    check_datum(planner, *_map_fits(network, osm_facilities, standards), problems)
    problems.raise_errors()
    facilities, merged = merge_facilities(
        osm_facilities,
        planner,
        metric,
        standards.analysis.merge_distance_m,
        standards.analysis.merge_name_similarity,
    )
    lap("facilities")

    buildings = buildings_from_osm(extract.features, standards.population, metric)
    if planner_communities is not None:
        comm = planner_communities.to_crs(metric)
        inside = shapely.intersects(comm.representative_point().values, inner_m)
        if not inside.any():
            msg = (
                f"none of the {len(comm)} communities of {communities_spec} lies in the study area "
                f"{tuple(round(v, 4) for v in extract.area.bounds)}; check the file and --area."
            )
            raise EmptyAreaError(msg)
        if (~inside).any():
            problems.warning(
                communities_spec,
                f"{int((~inside).sum())} communities lie outside the study area and were left out",
            )
        communities, demand = spread_population(comm[inside], buildings, standards.population)
    else:
        communities = communities_from_osm(extract.features, inner_m, metric)
        if communities.empty:
            msg = (
                "no residential area (landuse=residential) in the study area of "
                f"{extract.path.name}; circles needs communities to place residents. Give a "
                "larger --area, or your own communities with --communities FILE."
            )
            raise EmptyAreaError(msg)
        communities, demand = estimate_population(communities, buildings, standards.population)
    lap("communities")

    fac_m = facilities.to_crs(metric)
    fac_m["in_area"] = shapely.intersects(fac_m.geometry.values, inner_m)
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

    district_id = district_id or Path(extract.path).name.split(".")[0]
    district_name = district_name or district_id
    streets = None if units is None else units[units["level"] == "street"].to_crs(metric)
    results = evaluate_rules(
        standards,
        communities,
        demand,
        fac_m,
        access,
        (district_id, district_name, inner_m),
        streets,
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
    warnings.extend(str(p) for p in problems.warnings)
    demand = _with_access(demand, dem_snap.connector_m, access, facilities)
    facilities = facilities.assign(
        connector_m=fac_snap.connector_m,
        network_node=graph.facility_node,
        in_area=fac_m["in_area"].to_numpy(),
    )
    communities = _with_rule_columns(communities, results)
    summary = {"district": {"id": district_id, "name": district_name}} | _summary(
        standards, extract, network, facilities, communities, demand, results, timings, warnings
    )
    inner_wgs84 = _to(inner_m, WGS84, source=metric)
    summary["study_area_wgs84_bounds"] = [round(v, 6) for v in inner_wgs84.bounds]
    summary["read_area_wgs84_bounds"] = [round(v, 6) for v in extract.area.bounds]
    summary["cache"] = {"read_osm": extract.cache, "network": network.cache}
    summary["planner_inputs"] = {
        "facility_files": [str(f) for f in facility_files],
        "planner_facilities": int(facilities["source"].str.startswith("planner").sum()),
        "merged_with_osm": merged,
        "communities_file": None if communities_spec is None else str(communities_spec),
        "boundaries_file": None if units is None else str(boundaries),
        "streets": 0 if streets is None else len(streets),
        "buffer_m": buffer_m,
        "crs": crs,
    }
    return Analysis(
        standards=standards,
        lang=lang,
        crs=metric,
        area_m=inner_m,
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
        inputs=input_paths,
    )


def _map_fits(
    network: Network, osm_facilities: gpd.GeoDataFrame, standards: Standards
) -> tuple[Callable, Callable]:
    """How well points fit the map: distance to streets, same-name OSM facilities nearby."""
    to_metric = Transformer.from_crs(WGS84, network.crs, always_xy=True)
    osm_m = osm_facilities.to_crs(network.crs)
    tree = shapely.STRtree(osm_m.geometry.values)
    settings = standards.analysis

    def distance_to_streets(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return network.snap(np.column_stack(to_metric.transform(lon, lat))).connector_m

    def osm_matches(points: gpd.GeoDataFrame) -> int:
        pts = points.to_crs(network.crs)
        p_idx, o_idx = tree.query(
            pts.geometry.values, predicate="dwithin", distance=settings.merge_distance_m
        )
        same = pts["category_id"].to_numpy()[p_idx] == osm_m["category_id"].to_numpy()[o_idx]
        names_p, names_o = pts["name"].to_numpy(), osm_m["name"].to_numpy()
        hits = {
            int(i)
            for i, j in zip(p_idx[same], o_idx[same], strict=True)
            if similar_names(names_p[i], names_o[j], settings.merge_name_similarity)
        }
        return len(hits)

    return distance_to_streets, osm_matches


def _study_area(
    area: str | Path | BaseGeometry | None,
    district: str | None,
    district_name: str | None,
    boundaries: str | Path | FileSpec | None,
    crs: str,
    problems: Problems,
) -> tuple[BaseGeometry | None, str | None, str | None, gpd.GeoDataFrame | None]:
    """Study area (WGS-84), district id and name, and the planner's boundary units."""
    study_area = parse_area(area)
    district_id = None
    if district is not None:
        if study_area is not None:
            msg = "give either --district or --area, not both."
            raise InputError(msg)
        division = find_division(district)
        study_area, district_id = division.geometry, division.code
        district_name = district_name or division.full_name
    units = None
    if boundaries is not None:
        units = read_boundaries(boundaries, crs, problems)
        districts = units[units["level"] == "district"]
        if len(districts) > 1:
            problems.error(
                boundaries,
                f"{len(districts)} district polygons; circles analyze takes one district at a "
                "time (use circles batch for several) — keep one, or give streets only.",
            )
        elif len(districts) == 1 and study_area is None:
            study_area = districts.geometry.iloc[0]
            district_id = str(districts["unit_id"].iloc[0])
            district_name = district_name or districts["name"].iloc[0]
    return study_area, district_id or district_name, district_name, units


def _buffer(area: BaseGeometry, buffer_m: float) -> BaseGeometry:
    """The area grown by ``buffer_m`` metres (in its local UTM zone), WGS-84."""
    if buffer_m <= 0:
        return area
    utm = gpd.GeoSeries([area], crs=WGS84).estimate_utm_crs()
    return _to(_to(area, utm).buffer(buffer_m), WGS84, source=utm)


def _to(geom: BaseGeometry, crs: object, source: object = WGS84) -> BaseGeometry:
    return gpd.GeoSeries([geom], crs=source).to_crs(crs).iloc[0]


def _planner_points(
    source: str | Path | FileSpec | gpd.GeoDataFrame,
    standards: Standards,
    crs: str,
    bounds: BaseGeometry,
    problems: Problems,
) -> gpd.GeoDataFrame:
    """A planner facility file read and checked, or a GeoDataFrame given from Python."""
    if not isinstance(source, gpd.GeoDataFrame):
        return read_facilities(source, standards, crs, bounds, problems)
    known = set(standards.category_ids)
    unknown = sorted(set(source["category_id"]) - known)
    if unknown:
        msg = f"unknown facility categories {unknown}; expected ids such as {sorted(known)[:5]}"
        raise InputError(msg)
    points = source.to_crs(WGS84)
    frame = pd.DataFrame(
        {
            "facility_id": [f"planner:{i}" for i in range(len(points))],
            "category_id": points["category_id"].to_numpy(),
            "name": points["name"].to_numpy() if "name" in points else None,
            "source": "planner",
            "matched_by": "planner",
            "capacity": points["capacity"].to_numpy(float) if "capacity" in points else np.nan,
            "area_m2": points["area_m2"].to_numpy(float) if "area_m2" in points else np.nan,
        }
    )
    geometry = points.geometry.representative_point().values
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)


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
    community = rows[rows["unit_level"] != "district"]  # communities or streets
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
        planner = fac["source"].astype(str).str.startswith("planner").to_numpy()
        dist = demand[f"dist_m.{cat.id}"].to_numpy()
        categories.append(
            {
                "category_id": cat.id,
                "name_zh": cat.name.zh,
                "name_en": cat.name.en,
                "facilities": len(fac),
                "matched_by_tag": int((fac["matched_by"] == "tag").sum()),
                "matched_by_name": int((fac["matched_by"] == "name").sum()),
                "from_planner": int(planner.sum()),
                "data": "no_data"
                if fac.empty
                else "planner"
                if planner.all()
                else "osm"
                if not planner.any()
                else "osm+planner",
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


def check_inputs(
    facilities: Sequence[str | Path | FileSpec] = (),
    communities: str | Path | FileSpec | None = None,
    boundaries: str | Path | FileSpec | None = None,
    standards: Standards | str | Path | None = None,
    crs: str = "wgs84",
    osm: str | Path | None = None,
) -> tuple[Problems, list[dict]]:
    """Read and check planners' files without analysing.

    With ``osm``, facility points are also checked against the extract's bounds and the
    walking network (a wrong datum puts them 300-700 m off the streets).

    Returns
    -------
    problems, files
        Every error and warning, and one summary per file (what was read).
    """
    if not isinstance(standards, Standards):
        standards = load_standards(standards)
    problems = Problems()
    bounds = None
    fits = None
    if osm is not None:
        extract = read_extract(osm, feature_keys(standards), None, cache=True)
        network = network_from_extract(extract, standards.network, cache=True)
        bounds = extract.bounds
        osm_facilities = facilities_from_osm(extract.features, standards.categories, network.crs)
        fits = _map_fits(network, osm_facilities, standards)

    files: list[dict] = []
    read = []
    names = {c.id: c.name.zh for c in standards.categories.categories}
    for spec in map(FileSpec.parse, facilities):
        gdf = read_facilities(spec, standards, crs, bounds, problems)
        read.append(gdf)
        files.append(
            {
                "file": str(spec),
                "kind": "facilities",
                "records": len(gdf),
                "crs": gdf["given_crs"].iloc[0] if len(gdf) else crs,
                "categories": {
                    names[k]: int(v) for k, v in gdf["category_id"].value_counts().items()
                },
                "with_capacity": int(gdf["capacity"].notna().sum()),
            }
        )
    if fits is not None and read:
        check_datum(pd.concat(read, ignore_index=True), *fits, problems)
    if communities is not None:
        spec = FileSpec.parse(communities)
        gdf = read_communities(spec, crs, problems)
        files.append(
            {
                "file": str(spec),
                "kind": "communities",
                "records": len(gdf),
                "population": float(gdf["population"].sum()) if len(gdf) else 0.0,
                "with_elderly": bool(len(gdf) and gdf["elderly"].notna().all()),
                "with_children": bool(len(gdf) and gdf["children"].notna().all()),
            }
        )
    if boundaries is not None:
        spec = FileSpec.parse(boundaries)
        gdf = read_boundaries(spec, crs, problems)
        files.append(
            {
                "file": str(spec),
                "kind": "boundaries",
                "records": len(gdf),
                "levels": {str(k): int(v) for k, v in gdf["level"].value_counts().items()},
            }
        )
    return problems, files
