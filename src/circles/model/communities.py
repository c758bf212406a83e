"""Communities, their population (official or estimated) and the demand points inside them."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.standards import PopulationSettings


def _levels(value: str | None) -> float:
    if not value:
        return np.nan
    found = re.match(r"\s*(\d+(?:\.\d+)?)", value)
    return float(found.group(1)) if found and float(found.group(1)) > 0 else np.nan


def communities_from_osm(
    features: gpd.GeoDataFrame, area: shapely.Geometry, metric_crs: object
) -> gpd.GeoDataFrame:
    """Residential compounds: OSM ``landuse=residential`` polygons, in a metric CRS.

    Overlapping polygons (a district-wide polygon around named compounds) would count people
    twice, so each polygon keeps only the part not covered by smaller ones.

    Returns
    -------
    GeoDataFrame
        ``community_id``, ``name``, ``area_m2`` and polygon geometry, clipped to the area.
    """
    is_res = features["tags"].map(lambda t: t.get("landuse") == "residential")
    polys = features[is_res & features.geom_type.isin(["Polygon", "MultiPolygon"])]
    polys = polys.to_crs(metric_crs)
    geoms = shapely.intersection(shapely.make_valid(polys.geometry.values), area)
    frame = pd.DataFrame(
        {
            "community_id": [
                f"osm:{t}/{i}" for t, i in zip(polys.osm_type, polys.osm_id, strict=True)
            ],
            "name": polys["name"].to_numpy(),
        }
    )
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=metric_crs)
    gdf = gdf[~gdf.is_empty & (gdf.area > 1.0)]
    gdf = gdf.iloc[np.argsort(gdf.area.to_numpy(), kind="stable")].reset_index(drop=True)
    # subtract smaller overlapping polygons from larger ones
    tree = shapely.STRtree(gdf.geometry.values)
    left, right = tree.query(gdf.geometry.values, predicate="overlaps")
    contains_l, contains_r = tree.query(gdf.geometry.values, predicate="contains")
    left = np.concatenate([left, contains_l])
    right = np.concatenate([right, contains_r])
    geoms = gdf.geometry.values.copy()
    for i in np.unique(left):
        smaller = right[(left == i) & (right < i)]
        if len(smaller):
            geoms[i] = shapely.difference(geoms[i], shapely.union_all(gdf.geometry.values[smaller]))
    gdf = gdf.set_geometry(geoms)
    gdf = gdf[gdf.area > 1.0].copy()
    gdf["name"] = gdf["name"].where(gdf["name"].notna(), None)
    gdf["area_m2"] = gdf.area
    return gdf.reset_index(drop=True)


def buildings_from_osm(
    features: gpd.GeoDataFrame, settings: PopulationSettings, metric_crs: object
) -> gpd.GeoDataFrame:
    """Residential buildings with footprint, levels and floor area, in a metric CRS."""
    values = set(settings.residential_building_values)
    is_res = features["tags"].map(lambda t: t.get("building") in values)
    blds = features[is_res & features.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(
        metric_crs
    )
    levels = blds["tags"].map(lambda t: _levels(t.get("building:levels"))).to_numpy(float)
    footprint = blds.area.to_numpy()
    tagged = ~np.isnan(levels)
    levels = np.where(tagged, levels, settings.default_building_levels.value)
    return gpd.GeoDataFrame(
        {
            "building_id": [
                f"osm:{t}/{i}" for t, i in zip(blds.osm_type, blds.osm_id, strict=True)
            ],
            "footprint_m2": footprint,
            "levels": levels,
            "levels_tagged": tagged,
            "floor_area_m2": footprint * levels,
        },
        geometry=blds.geometry.values,
        crs=metric_crs,
    )


def estimate_population(
    communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, settings: PopulationSettings
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Estimate population per community and spread it over demand points.

    A community whose residential buildings cover at least ``min_building_coverage`` of its
    land gets floor area / floor area per person, spread over its buildings by floor area.
    Otherwise it gets land area x persons per hectare, spread evenly over a grid of points
    inside it (never a single centroid, unless the polygon is smaller than one cell).

    Returns
    -------
    communities, demand_points
        Communities with ``population``, ``population_method`` and
        ``population_estimated``; demand points with ``community_id`` and ``population``.
    """
    communities = communities.copy()
    b_idx, c_idx, floor, coverage = _buildings_in(communities, buildings)
    by_buildings = coverage >= settings.min_building_coverage
    communities["population"] = np.where(
        by_buildings,
        floor / settings.floor_area_per_person_m2.value,
        communities["area_m2"].to_numpy() / 10_000 * settings.persons_per_hectare.value,
    )
    communities["population_method"] = np.where(by_buildings, "buildings", "density")
    communities["population_estimated"] = True
    demand = _demand_points(communities, buildings, b_idx, c_idx, floor, by_buildings, settings)
    return communities, demand


def spread_population(
    communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, settings: PopulationSettings
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Spread given (official) populations over demand points inside each community.

    Over its residential buildings by floor area where they cover at least
    ``min_building_coverage`` of the community, else evenly over a grid. ``elderly`` and
    ``children``, where given, are spread in proportion to the population.
    """
    communities = communities.copy()
    communities["area_m2"] = communities.area
    b_idx, c_idx, floor, coverage = _buildings_in(communities, buildings)
    by_buildings = (coverage >= settings.min_building_coverage) & (floor > 0)
    demand = _demand_points(communities, buildings, b_idx, c_idx, floor, by_buildings, settings)
    demand["population_estimated"] = False
    return communities, demand


def _buildings_in(
    communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Buildings -> community (by representative point), floor area and coverage per community."""
    reps = buildings.geometry.representative_point()
    b_idx, c_idx = shapely.STRtree(communities.geometry.values).query(
        reps.values, predicate="within"
    )
    # a building point inside two communities (overlapping polygons) goes to the first
    b_idx, first = np.unique(b_idx, return_index=True)
    c_idx = c_idx[first]
    n = len(communities)
    footprint = np.bincount(c_idx, buildings["footprint_m2"].to_numpy()[b_idx], minlength=n)
    floor = np.bincount(c_idx, buildings["floor_area_m2"].to_numpy()[b_idx], minlength=n)
    coverage = footprint / np.maximum(communities["area_m2"].to_numpy(), 1e-9)
    communities["buildings"] = np.bincount(c_idx, minlength=n)
    communities["building_coverage"] = coverage
    return b_idx, c_idx, floor, coverage


def _demand_points(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    b_idx: np.ndarray,
    c_idx: np.ndarray,
    floor: np.ndarray,
    by_buildings: np.ndarray,
    settings: PopulationSettings,
) -> gpd.GeoDataFrame:
    """Buildings of building-method communities, grid points elsewhere; population shared."""
    use = by_buildings[c_idx]
    bi, ci = b_idx[use], c_idx[use]
    reps = buildings.geometry.values[bi]
    parts = [
        gpd.GeoDataFrame(
            {
                "community_id": communities["community_id"].to_numpy()[ci],
                "share": buildings["floor_area_m2"].to_numpy()[bi] / floor[ci],
                "kind": "building",
                "source_id": buildings["building_id"].to_numpy()[bi],
            },
            geometry=shapely.point_on_surface(reps) if len(reps) else [],
            crs=communities.crs,
        )
    ]
    grid = _grid_points(communities[~by_buildings], settings.grid_spacing_m)
    grid["share"] = 1.0 / grid.groupby("community_id")["community_id"].transform("size")
    parts.append(grid)
    demand = pd.concat(parts, ignore_index=True)
    demand = gpd.GeoDataFrame(demand, geometry="geometry", crs=communities.crs)
    by_id = communities.set_index("community_id")
    demand["population"] = demand["community_id"].map(by_id["population"]) * demand["share"]
    for column in ("elderly", "children"):
        if column in by_id:
            demand[column] = demand["community_id"].map(by_id[column]) * demand["share"]
    demand.insert(0, "point_id", np.arange(len(demand)))
    demand["population_estimated"] = True
    return demand.drop(columns="share")


def _grid_points(communities: gpd.GeoDataFrame, spacing: float) -> gpd.GeoDataFrame:
    """Points on a regular grid inside each polygon; a representative point if none falls inside."""
    ids, points, kinds = [], [], []
    for cid, geom in zip(communities["community_id"], communities.geometry.values, strict=True):
        minx, miny, maxx, maxy = geom.bounds
        xs = np.arange(minx + spacing / 2, maxx, spacing)
        ys = np.arange(miny + spacing / 2, maxy, spacing)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        inside = shapely.contains_xy(geom, gx, gy)
        if inside.any():
            pts = shapely.points(gx[inside], gy[inside])
            kind = "grid"
        else:
            pts = np.array([geom.representative_point()])
            kind = "representative"
        ids.extend([cid] * len(pts))
        points.extend(pts)
        kinds.extend([kind] * len(pts))
    return gpd.GeoDataFrame(
        {"community_id": ids, "kind": kinds, "source_id": None},
        geometry=np.array(points, dtype=object) if points else [],
        crs=communities.crs,
    )
