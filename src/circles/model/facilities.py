"""Facilities per category from OSM tags and Chinese name keywords."""

from __future__ import annotations

import difflib
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.standards import Category, CategoryFile

FACILITY_COLUMNS = [
    "facility_id",
    "category_id",
    "name",
    "source",
    "osm_type",
    "osm_id",
    "matched_by",
    "capacity",
    "area_m2",
]
OUTLINE = "outline"  # an area facility's polygon (not an output column: see pipeline)


def selector_matches(selector: dict[str, str | list[str] | bool], tags: dict[str, str]) -> bool:
    """Whether all ``key: value`` conditions hold (``true``: any value, ``false``: key absent)."""
    for key, want in selector.items():
        have = tags.get(key)
        if want is True:
            if have is None:
                return False
        elif want is False:
            if have is not None:
                return False
        elif isinstance(want, list):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


def _has(name: str, word: str) -> bool:
    """Whether ``word`` is in ``name``; a trailing ``$`` means: ends the name."""
    return name.endswith(word[:-1]) if word.endswith("$") else word in name


def name_blocked(tags: dict[str, str], categories: CategoryFile) -> bool:
    """Whether the feature's name must not be read (a street, a stop, a bare compound...).

    ``name_match_ignore_keys`` always block; ``name_match_area_keys`` (place, landuse) block
    only a feature that carries no key used by any category's tag selectors, so a
    kindergarten also tagged ``place=locality`` is still read by its name.
    """
    if any(key in tags for key in categories.name_match_ignore_keys):
        return True
    if not any(key in tags for key in categories.name_match_area_keys):
        return False
    facility_keys = {
        k for c in categories.categories for sel in c.tags for k, v in sel.items() if v is not False
    }
    return not facility_keys.intersection(tags)


def match_category(tags: dict[str, str], category: Category, names_blocked: bool) -> str | None:
    """How a feature matches a category: ``"tag"``, ``"name"`` or ``None``.

    ``name_exclude`` and ``tags_exclude`` veto both kinds of match; a feature carrying one of
    the category's ``tags_only_keys`` (school grades) is matched by its tags alone.
    """
    names = [tags[k] for k in ("name", "name:zh", "official_name") if k in tags]
    if any(_has(name, x) for name in names for x in category.name_exclude) or any(
        selector_matches(sel, tags) for sel in category.tags_exclude
    ):
        return None
    if any(selector_matches(sel, tags) for sel in category.tags):
        return "tag"
    if names_blocked or any(key in tags for key in category.tags_only_keys):
        return None
    if any(_has(name, k) for name in names for k in category.name_keywords):
        return "name"
    return None


def categories_of(tags: dict[str, str], categories: CategoryFile) -> dict[str, str]:
    """The categories a feature belongs to, each with how it matched (``tag`` or ``name``)."""
    blocked = name_blocked(tags, categories)
    found = {c.id: match_category(tags, c, blocked) for c in categories.categories}
    return {cid: how for cid, how in found.items() if how is not None}


def _number(text: str | None) -> float:
    """Leading number of a tag value ('120', '120 places', '1,200'), else NaN."""
    if not text:
        return np.nan
    found = re.match(r"\s*(\d+(?:[.,]\d+)*)", text)
    return float(found.group(1).replace(",", "")) if found else np.nan


def facilities_from_osm(
    features: gpd.GeoDataFrame, categories: CategoryFile, metric_crs: object
) -> gpd.GeoDataFrame:
    """Match OSM features to facility categories.

    A feature may serve several categories (a school with a kindergarten); it then gives one
    row per category. Areas are represented by a point inside them; their area in m² is kept
    for categories whose supply is measured by area (sports grounds), less the part already
    covered by larger areas of the category (a pitch inside a sports centre adds nothing), and
    their outline in ``OUTLINE`` (WGS-84; ``None`` for points): areas join the streets from it.

    Parameters
    ----------
    features
        Tagged OSM nodes and areas (``osm.OsmExtract.features``), WGS-84.
    categories
        Category definitions from the standards file.
    metric_crs
        CRS in metres for areas.

    Returns
    -------
    GeoDataFrame
        One row per facility and category, point geometry, WGS-84.
    """
    rows = _matches(features, categories)
    if not rows:
        return gpd.GeoDataFrame(
            columns=[*FACILITY_COLUMNS, OUTLINE, "geometry"], geometry="geometry", crs=features.crs
        )
    index, category_ids, how = zip(*rows, strict=True)
    picked = features.iloc[list(index)].reset_index(drop=True)
    frame = _facility_frame(picked, list(category_ids), list(how), categories, metric_crs)
    polygonal = picked.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    frame[OUTLINE] = np.where(polygonal, picked.geometry.values, None)
    points = picked.geometry.representative_point()
    return gpd.GeoDataFrame(frame, geometry=points.values, crs=features.crs)


def _matches(features: gpd.GeoDataFrame, categories: CategoryFile) -> list[tuple[int, str, str]]:
    """``(feature position, category id, how matched)`` for every feature and its categories."""
    return [
        (i, cid, how)
        for i, tags in enumerate(features["tags"])
        for cid, how in categories_of(tags, categories).items()
    ]


def _facility_frame(
    picked: gpd.GeoDataFrame,
    category_ids: list[str],
    how: list[str],
    categories: CategoryFile,
    metric_crs: object,
) -> pd.DataFrame:
    """The ``FACILITY_COLUMNS`` of matched features (one row per feature and category)."""
    cats = {c.id: c for c in categories.categories}
    capacity = [
        next((_number(t.get(k)) for k in cats[c].capacity_tags if t.get(k)), np.nan)
        for t, c in zip(picked["tags"], category_ids, strict=True)
    ]
    polygonal = picked.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    by_area = np.array([cats[c].area_from_geometry for c in category_ids])
    area_m2 = exclusive_areas(
        picked.to_crs(metric_crs).geometry.to_numpy(), np.asarray(category_ids), polygonal & by_area
    )
    return pd.DataFrame(
        {
            "facility_id": [
                f"osm:{t}/{i}" for t, i in zip(picked.osm_type, picked.osm_id, strict=True)
            ],
            "category_id": category_ids,
            "name": picked["name"],
            "source": "osm",
            "osm_type": picked["osm_type"],
            "osm_id": picked["osm_id"],
            "matched_by": how,
            "capacity": capacity,
            "area_m2": area_m2,
        }
    )


def exclusive_areas(
    geoms: np.ndarray, category_ids: np.ndarray, measured: np.ndarray
) -> np.ndarray:
    """Each polygon's area (m²) not already covered by larger polygons of its category.

    Summed over a category's polygons, this is the area of their union: nested or overlapping
    grounds are counted once (by the larger one, which holds the rest). ``NaN`` elsewhere.

    Parameters
    ----------
    geoms
        Metric geometries, one per facility row.
    category_ids
        The category of each row.
    measured
        Whether each row's area is measured (a polygon of an ``area_from_geometry`` category).
    """
    geoms = np.where(measured, shapely.make_valid(geoms), None)
    out = np.where(measured, shapely.area(geoms), np.nan)
    for cat in np.unique(category_ids[measured]):
        rows = np.flatnonzero((category_ids == cat) & measured)
        rows = rows[np.argsort(-out[rows], kind="stable")]  # larger first
        tree = shapely.STRtree(geoms[rows])
        for rank, row in enumerate(rows):
            near = tree.query(geoms[row], predicate="intersects")
            larger = geoms[rows[near[near < rank]]]
            if len(larger):
                out[row] = shapely.area(shapely.difference(geoms[row], shapely.union_all(larger)))
    return out


def _name_key(name: object) -> str:
    """A name for comparison: no spaces, brackets or punctuation."""
    if not isinstance(name, str):  # None or NaN
        return ""
    return re.sub(r"[\s()（）\[\]【】·,，.。\-_]+", "", name).lower()


def similar_names(a: object, b: object, threshold: float) -> bool:
    """Whether two facility names plausibly name the same place (one in the other, or close)."""
    a, b = _name_key(a), _name_key(b)
    if not a or not b:
        return False
    return a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= threshold


def merge_facilities(
    osm: gpd.GeoDataFrame,
    planner: gpd.GeoDataFrame,
    metric_crs: object,
    distance_m: float,
    name_similarity: float,
) -> tuple[gpd.GeoDataFrame, int]:
    """Planner facilities added to the OSM ones; the same facility in both counts once.

    A planner record and an OSM feature of the same category within ``distance_m`` of each
    other with similar names (or, when either has no name, within a fifth of that distance)
    are one facility: the planner record is kept (it carries capacity
    and official names), its ``source`` becomes ``planner+osm`` and it takes the OSM id (and
    the OSM capacity or area where the planner left them blank). Closest pairs match first;
    each record matches at most once.

    Returns
    -------
    facilities, merged
        All facilities (``crs`` of ``osm``) and how many planner records matched OSM ones.
    """
    planner = planner.to_crs(osm.crs).copy()
    for column in FACILITY_COLUMNS:
        if column not in planner:
            planner[column] = None
    if osm.empty or planner.empty:
        both = pd.concat([osm, planner], ignore_index=True)
        return gpd.GeoDataFrame(both, geometry="geometry", crs=osm.crs), 0
    p_idx, o_idx, dist = _near_pairs(planner, osm, metric_crs, distance_m)
    pairs = _match_pairs(planner, osm, p_idx, o_idx, dist, distance_m, name_similarity)
    for i, j in pairs:
        _take_osm(planner, i, osm, j)
    kept_osm = osm.drop(index=osm.index[sorted(j for _, j in pairs)])
    both = pd.concat([kept_osm, planner], ignore_index=True)
    both["osm_id"] = both["osm_id"].astype("Int64")
    return gpd.GeoDataFrame(both, geometry="geometry", crs=osm.crs), len(pairs)


def _near_pairs(
    planner: gpd.GeoDataFrame, osm: gpd.GeoDataFrame, metric_crs: object, distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planner and OSM positions of same-category pairs within ``distance_m``, and distances."""
    p_m, o_m = planner.to_crs(metric_crs), osm.to_crs(metric_crs)
    p_idx, o_idx = shapely.STRtree(o_m.geometry.values).query(
        p_m.geometry.values, predicate="dwithin", distance=distance_m
    )
    same = planner["category_id"].to_numpy()[p_idx] == osm["category_id"].to_numpy()[o_idx]
    p_idx, o_idx = p_idx[same], o_idx[same]
    dist = shapely.distance(p_m.geometry.values[p_idx], o_m.geometry.values[o_idx])
    return p_idx, o_idx, dist


def _match_pairs(
    planner: gpd.GeoDataFrame,
    osm: gpd.GeoDataFrame,
    p_idx: np.ndarray,
    o_idx: np.ndarray,
    dist: np.ndarray,
    distance_m: float,
    name_similarity: float,
) -> list[tuple[int, int]]:
    """Planner and OSM positions of the same facility: closest first, each matched once."""
    pairs: list[tuple[int, int]] = []
    used_p, used_o = set(), set()
    for k in np.argsort(dist, kind="stable"):
        i, j = int(p_idx[k]), int(o_idx[k])
        if i in used_p or j in used_o:
            continue
        name_p, name_o = planner["name"].iloc[i], osm["name"].iloc[j]
        unnamed = not _name_key(name_p) or not _name_key(name_o)
        if similar_names(name_p, name_o, name_similarity) or (
            unnamed and dist[k] <= distance_m / 5
        ):
            used_p.add(i)
            used_o.add(j)
            pairs.append((i, j))
    return pairs


def _take_osm(planner: gpd.GeoDataFrame, i: int, osm: gpd.GeoDataFrame, j: int) -> None:
    """Mark planner row ``i`` as OSM row ``j`` too: its id, and capacity or area where blank."""
    planner.loc[planner.index[i], ["source", "osm_type", "osm_id"]] = [
        "planner+osm",
        osm["osm_type"].iloc[j],
        osm["osm_id"].iloc[j],
    ]
    for column in ("capacity", "area_m2"):
        if pd.isna(planner[column].iloc[i]):
            planner.loc[planner.index[i], column] = osm[column].iloc[j]


ENTRANCE_NEAR_M = 5.0  # an entrance this close to an area's outline is one of its ways in


def is_entrance(tags: dict[str, str]) -> bool:
    """Whether a node is a way in or out: ``entrance=*`` or ``barrier=gate``."""
    return "entrance" in tags or tags.get("barrier") == "gate"


def facility_entrances(
    features: gpd.GeoDataFrame,
    outlines: np.ndarray,
    metric_crs: object,
    near_m: float = ENTRANCE_NEAR_M,
) -> np.ndarray:
    """The mapped entrances of every area facility: ``entrance=*`` and ``barrier=gate`` nodes
    on its outline or within ``near_m`` of it.

    Parameters
    ----------
    features
        Tagged OSM nodes and areas (``osm.OsmExtract.features``), WGS-84.
    outlines
        Per facility: its polygon (WGS-84), or ``None`` for a point facility.
    metric_crs
        CRS in metres.
    near_m
        How far from the outline (inside or out) an entrance may lie.

    Returns
    -------
    numpy.ndarray
        Per facility: a MultiPoint of its entrances (WGS-84), or ``None`` (no entrance mapped,
        or a point facility).
    """
    out = np.full(len(outlines), None, dtype=object)
    is_area = np.array([isinstance(o, shapely.Geometry) and not o.is_empty for o in outlines])
    if len(features) == 0 or not is_area.any():
        return out
    is_node = (features["osm_type"] == "node").to_numpy()
    entrance = is_node & np.fromiter((is_entrance(t) for t in features["tags"]), bool, len(is_node))
    if not entrance.any():
        return out
    points = features.geometry[entrance]
    area_rows = np.flatnonzero(is_area)
    rings = gpd.GeoSeries(list(outlines[area_rows]), crs=features.crs).to_crs(metric_crs).boundary
    tree = shapely.STRtree(points.to_crs(metric_crs).to_numpy())
    ring, point = tree.query(rings.to_numpy(), predicate="dwithin", distance=near_m)
    wgs = points.to_numpy()
    for r in np.unique(ring):
        out[area_rows[r]] = shapely.multipoints(list(wgs[point[ring == r]]))
    return out
