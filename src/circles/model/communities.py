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
    """Residential buildings with footprint, levels, floor area and ``building`` value, in a
    metric CRS."""
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
            "building": blds["tags"].map(lambda t: t.get("building")).to_numpy(object),
        },
        geometry=blds.geometry.values,
        crs=metric_crs,
    )


def homes_outside(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    area: shapely.Geometry,
    settings: PopulationSettings,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Units for the homes outside residential land: one per cluster of buildings typed as
    homes (``home_building_values``) less than ``cluster_gap_m`` apart, in the study area.

    With no residential land at all, every residential building (``building=yes`` too) is
    clustered: the built-up blocks, ``unit_kind`` ``built_up`` instead of ``building_cluster``.
    A home footprint above ``max_home_footprint_m2`` is a compound outline, not a building:
    it becomes a unit of residential land (``unit_kind`` ``residential_land``).

    Returns
    -------
    units, buildings
        The cluster polygons (buildings grown by half the gap, outside residential land) with
        ``community_id``, ``name`` (None), ``area_m2`` and ``unit_kind``; and the buildings
        to estimate from: those on residential land and those clustered (not offices,
        schools or shops tagged ``building=yes`` outside residential land).
    """
    built_up = communities.empty
    values = settings.residential_building_values if built_up else settings.home_building_values
    reps = shapely.point_on_surface(buildings.geometry.values)
    land = shapely.union_all(communities.geometry.values)
    on_land = shapely.intersects(reps, land) if not built_up else np.zeros(len(reps), bool)
    pick = buildings["building"].isin(values).to_numpy() & ~on_land & shapely.intersects(reps, area)
    huge = pick & (buildings["footprint_m2"].to_numpy() > settings.max_home_footprint_m2)
    outlines = _outlines(buildings[huge], area)
    land = shapely.union(land, shapely.union_all(outlines.geometry.values))
    pick &= ~huge
    blobs = shapely.union_all(
        shapely.buffer(buildings.geometry.values[pick], settings.cluster_gap_m / 2)
    )
    parts = shapely.get_parts(shapely.difference(shapely.intersection(blobs, area), land))
    parts = parts[shapely.area(parts) > 1.0]
    tree = shapely.STRtree(parts)
    homes = np.unique(tree.query(reps[pick], predicate="within")[1])
    parts = parts[homes]
    kind = "built_up" if built_up else "building_cluster"
    units = gpd.GeoDataFrame(
        {
            "community_id": [f"{kind}:{i + 1}" for i in range(len(parts))],
            "name": None,
            "area_m2": shapely.area(parts),
            "unit_kind": kind,
        },
        geometry=parts,
        crs=communities.crs,
    )
    units = pd.concat([outlines, units], ignore_index=True)
    return gpd.GeoDataFrame(units, crs=communities.crs), buildings[on_land | pick]


def _outlines(huge: gpd.GeoDataFrame, area: shapely.Geometry) -> gpd.GeoDataFrame:
    """Home "buildings" too large to be one (a compound drawn as ``building=residential``),
    as residential land: their population comes from land area, not floor area."""
    geoms = shapely.intersection(huge.geometry.values, area)
    return gpd.GeoDataFrame(
        {
            "community_id": huge["building_id"].to_numpy(),
            "name": None,
            "area_m2": shapely.area(geoms),
            "unit_kind": "residential_land",
        },
        geometry=geoms,
        crs=huge.crs,
    )


def uninhabited_areas(
    features: gpd.GeoDataFrame,
    roads: gpd.GeoSeries,
    settings: PopulationSettings,
    metric_crs: object,
) -> shapely.Geometry:
    """Where no one lives, in a metric CRS: areas tagged as in ``uninhabited_tags`` (water,
    rail yards, parks, industrial land...); the lines of ``roads`` whose ``highway`` is a
    large road, grown by ``large_road_half_width_m``; railways and rivers mapped only as a
    line (``uninhabited_lines``, not underground), grown by ``uninhabited_line_half_width_m``.

    Parameters
    ----------
    features
        OSM features (WGS-84) with ``tags``.
    roads
        Street lines in ``metric_crs``, indexed like their ``highway`` values (a GeoSeries
        with a ``highway`` name in its index is not needed: pass the large roads only).
    settings
        The population settings.
    metric_crs
        The CRS of the result.

    Returns
    -------
    shapely.Geometry
        One (multi)polygon, possibly empty.
    """
    polys = features[_tagged(features, settings.uninhabited_tags)]
    polys = polys[polys.geom_type.isin(["Polygon", "MultiPolygon"])]
    parts = list(shapely.make_valid(polys.to_crs(metric_crs).geometry.values))
    width = settings.large_road_half_width_m
    if width is not None and len(roads):
        parts.append(shapely.union_all(shapely.buffer(roads.to_numpy(), width.value)))
    lines = features[_tagged(features, settings.uninhabited_lines)]
    lines = lines[lines.geom_type.eq("LineString") & ~lines["tags"].map(_underground)]
    if len(lines):
        grown = lines.to_crs(metric_crs).buffer(settings.uninhabited_line_half_width_m)
        parts.append(shapely.union_all(grown.values))
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _tagged(features: gpd.GeoDataFrame, rules: dict[str, list[str]]) -> pd.Series:
    """Which features carry one of the tag values of ``rules`` (key -> values)."""
    return features["tags"].map(lambda t: any(t.get(k) in v for k, v in rules.items()))


def _underground(tags: dict[str, str]) -> bool:
    """A tunnel, culvert or underground line: people may live above it."""
    layer = tags.get("layer", "0").strip()
    return (
        tags.get("tunnel", "no") != "no"
        or tags.get("location") == "underground"
        or layer.startswith("-")
    )


def calibrate(
    communities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, total: float
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, float]:
    """Scale every community and demand point so that the population sums to ``total``.

    Returns
    -------
    communities, demand, factor
        Copies with ``population`` (and ``elderly``, ``children``) times ``factor`` and
        ``population_calibrated`` True.
    """
    factor = total / float(communities["population"].sum())
    communities, demand = communities.copy(), demand.copy()
    for frame in (communities, demand):
        for column in ("population", "elderly", "children"):
            if column in frame:
                frame[column] = frame[column] * factor
        frame["population_calibrated"] = True
    return communities, demand, factor


def street_of(streets: gpd.GeoDataFrame, points: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    """The row of the street each point lies within (the first on a shared border), else -1."""
    points = np.asarray(getattr(points, "values", points))
    at = np.full(len(points), -1)
    if streets is None or streets.empty or not len(points):
        return at
    p_idx, s_idx = shapely.STRtree(streets.geometry.values).query(points, predicate="within")
    p_idx, first = np.unique(p_idx, return_index=True)
    at[p_idx] = s_idx[first]
    return at


def calibrate_streets(
    communities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, streets: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Scale the demand points inside each street so that they sum to its official population.

    Streets without an official count (NaN) leave their points as they are; a community's
    population becomes the sum of its demand points, and it is ``population_calibrated`` when
    all its points are.

    Returns
    -------
    communities, demand, streets
        Copies of the first two; per street with an official count: ``unit_id``, ``name``,
        ``official``, ``estimate`` (before) and ``factor`` (NaN when the estimate is 0).
    """
    at = street_of(streets, demand.geometry)
    official = streets["population"].to_numpy(float)
    estimate = np.bincount(
        at[at >= 0], demand["population"].to_numpy(float)[at >= 0], minlength=len(streets)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(estimate > 0, official / estimate, np.nan)
    scaled = (at >= 0) & np.isfinite(factor[np.maximum(at, 0)])
    communities, demand = communities.copy(), demand.copy()
    by_point = np.where(scaled, factor[np.maximum(at, 0)], 1.0)
    for column in ("population", "elderly", "children"):
        if column in demand:
            demand[column] = demand[column] * by_point
    demand["population_calibrated"] = demand["population_calibrated"].to_numpy(bool) | scaled
    groups = demand.groupby("community_id")
    ids = communities["community_id"]
    for column in ("population", "elderly", "children"):
        if column in demand and column in communities:
            sums = groups[column].sum(min_count=1)
            communities[column] = ids.map(sums).where(ids.isin(sums.index), communities[column])
    all_done = groups["population_calibrated"].all()
    communities["population_calibrated"] = (
        ids.map(all_done).where(ids.isin(all_done.index), communities["population_calibrated"])
    ).astype(bool)
    report = pd.DataFrame(
        {
            "unit_id": streets["unit_id"].to_numpy(),
            "name": streets["name"].to_numpy(),
            "official": official,
            "estimate": estimate,
            "factor": factor,
        }
    )
    return communities, demand, report[~np.isnan(official)].reset_index(drop=True)


def estimate_population(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    settings: PopulationSettings,
    uninhabited: shapely.Geometry | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Estimate population per community and spread it over demand points.

    A community whose residential buildings cover at least ``min_building_coverage`` of its
    land, and every cluster of homes (``unit_kind`` ``building_cluster``), gets floor area /
    floor area per person, spread over its buildings by floor area. Otherwise it gets its
    inhabited land area (outside ``uninhabited``) x persons per hectare, spread evenly over a
    grid of points on that land (never a single centroid, unless no grid point falls on it).

    Returns
    -------
    communities, demand_points
        Communities with ``population``, ``population_method``, ``population_estimated`` and
        ``inhabited_m2``; demand points with ``community_id`` and ``population``.
    """
    communities = communities.copy()
    if "unit_kind" not in communities:
        communities["unit_kind"] = "residential_land"
    b_idx, c_idx, floor, coverage = _buildings_in(communities, buildings)
    cluster = communities["unit_kind"].to_numpy() != "residential_land"
    by_buildings = ((coverage >= settings.min_building_coverage) | cluster) & (floor > 0)
    land = _inhabited_m2(communities, uninhabited)
    communities["inhabited_m2"] = land
    communities["population"] = np.where(
        by_buildings,
        floor / settings.floor_area_per_person_m2.value,
        land / 10_000 * settings.persons_per_hectare.value,
    )
    method = np.where(cluster, communities["unit_kind"].to_numpy(), "buildings")
    communities["population_method"] = np.where(by_buildings, method, "density")
    communities["population_estimated"] = True
    demand = _demand_points(
        communities, buildings, (b_idx, c_idx, floor, by_buildings), settings, uninhabited
    )
    return communities, demand


def _inhabited_m2(
    communities: gpd.GeoDataFrame, uninhabited: shapely.Geometry | None
) -> np.ndarray:
    """Each community's land area outside the uninhabited areas (water, parks, roads...)."""
    geoms = communities.geometry.values
    if uninhabited is None or uninhabited.is_empty:
        return shapely.area(geoms)
    shapely.prepare(uninhabited)
    touch = shapely.intersects(geoms, uninhabited)
    area = shapely.area(geoms)
    area[touch] = shapely.area(shapely.difference(geoms[touch], uninhabited))
    return area


def spread_population(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    settings: PopulationSettings,
    uninhabited: shapely.Geometry | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Spread given (official) populations over demand points inside each community.

    Over its residential buildings by floor area where they cover at least
    ``min_building_coverage`` of the community, else evenly over the grid points that are not
    in ``uninhabited`` areas (water, parks, large roads...; a representative point on land if
    none is left). ``elderly`` and ``children``, where given, are spread in proportion to the
    population.

    Returns
    -------
    communities, demand_points
        As ``estimate_population``, with the communities' populations unchanged.
    """
    communities = communities.copy()
    communities["area_m2"] = communities.area
    b_idx, c_idx, floor, coverage = _buildings_in(communities, buildings)
    by_buildings = (coverage >= settings.min_building_coverage) & (floor > 0)
    demand = _demand_points(
        communities, buildings, (b_idx, c_idx, floor, by_buildings), settings, uninhabited
    )
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
    found: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    settings: PopulationSettings,
    uninhabited: shapely.Geometry | None,
) -> gpd.GeoDataFrame:
    """Buildings of building-method communities, grid points on inhabited land elsewhere;
    population shared. ``found``: building and community indices, floor area per community
    and whether each community is spread over its buildings."""
    b_idx, c_idx, floor, by_buildings = found
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
    grid = _grid_points(communities[~by_buildings], settings.grid_spacing_m, uninhabited)
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


def _grid_points(
    communities: gpd.GeoDataFrame, spacing: float, uninhabited: shapely.Geometry | None = None
) -> gpd.GeoDataFrame:
    """Points on a regular grid inside each polygon and outside the uninhabited areas; a
    representative point of its inhabited land (else of the polygon) if none is left."""
    nowhere = uninhabited if uninhabited is not None else shapely.Polygon()
    shapely.prepare(nowhere)
    ids, points, kinds = [], [], []
    for cid, geom in zip(communities["community_id"], communities.geometry.values, strict=True):
        minx, miny, maxx, maxy = geom.bounds
        xs = np.arange(minx + spacing / 2, maxx, spacing)
        ys = np.arange(miny + spacing / 2, maxy, spacing)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        inside = shapely.contains_xy(geom, gx, gy)
        if inside.any() and not nowhere.is_empty:
            inside[inside] = ~shapely.intersects_xy(nowhere, gx[inside], gy[inside])
        if inside.any():
            pts = shapely.points(gx[inside], gy[inside])
            kind = "grid"
        else:
            land = geom.difference(nowhere) if geom.intersects(nowhere) else geom
            pts = np.array([(geom if land.is_empty else land).representative_point()])
            kind = "representative"
        ids.extend([cid] * len(pts))
        points.extend(pts)
        kinds.extend([kind] * len(pts))
    return gpd.GeoDataFrame(
        {"community_id": ids, "kind": kinds, "source_id": None},
        geometry=np.array(points, dtype=object) if points else [],
        crs=communities.crs,
    )
