"""Facilities per category from OSM tags and Chinese name keywords."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.errors import InputError
from circles.standards import Category, CategoryFile, Standards

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


def match_category(
    tags: dict[str, str], category: Category, ignore_keys: frozenset[str]
) -> str | None:
    """How a feature matches a category: ``"tag"``, ``"name"`` or ``None``."""
    if any(selector_matches(sel, tags) for sel in category.tags):
        return "tag"
    if not category.name_keywords or ignore_keys.intersection(tags):
        return None
    names = [tags[k] for k in ("name", "name:zh", "official_name") if k in tags]
    for name in names:
        if any(k in name for k in category.name_keywords) and not any(
            x in name for x in category.name_exclude
        ):
            return "name"
    return None


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
    for categories whose supply is measured by area (sports grounds).

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
    ignore = frozenset(categories.name_match_ignore_keys)
    rows: list[tuple[int, str, str]] = []
    for i, tags in enumerate(features["tags"]):
        for category in categories.categories:
            how = match_category(tags, category, ignore)
            if how is not None:
                rows.append((i, category.id, how))
    if not rows:
        return gpd.GeoDataFrame(
            columns=[*FACILITY_COLUMNS, "geometry"], geometry="geometry", crs=features.crs
        )
    index, category_ids, how = zip(*rows, strict=True)
    picked = features.iloc[list(index)].reset_index(drop=True)
    cats = {c.id: c for c in categories.categories}
    capacity = [
        next((_number(t.get(k)) for k in cats[c].capacity_tags if t.get(k)), np.nan)
        for t, c in zip(picked["tags"], category_ids, strict=True)
    ]
    polygonal = picked.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    area_m2 = np.where(polygonal, picked.to_crs(metric_crs).area.to_numpy(), np.nan)
    by_area = np.array([cats[c].area_from_geometry for c in category_ids])
    frame = pd.DataFrame(
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
            "area_m2": np.where(by_area, area_m2, np.nan),
        }
    )
    points = picked.geometry.representative_point()
    return gpd.GeoDataFrame(frame, geometry=points.values, crs=features.crs)


def add_facilities(
    facilities: gpd.GeoDataFrame, extra: gpd.GeoDataFrame, standards: Standards
) -> gpd.GeoDataFrame:
    """Append planner facilities (points with ``category_id``) to the OSM ones.

    Raises
    ------
    InputError
        When a category id is unknown.
    """
    known = set(standards.category_ids)
    unknown = sorted(set(extra["category_id"]) - known)
    if unknown:
        msg = f"unknown facility categories {unknown}; expected ids such as {sorted(known)[:5]}"
        raise InputError(msg)
    extra = extra.to_crs(facilities.crs)
    rows = pd.DataFrame(
        {
            "facility_id": [f"planner:{i}" for i in range(len(extra))],
            "category_id": extra["category_id"].to_numpy(),
            "name": extra["name"].to_numpy() if "name" in extra else None,
            "source": "planner",
            "osm_type": None,
            "osm_id": None,
            "matched_by": "planner",
            "capacity": extra["capacity"].to_numpy(float) if "capacity" in extra else np.nan,
            "area_m2": extra["area_m2"].to_numpy(float) if "area_m2" in extra else np.nan,
        }
    )
    added = gpd.GeoDataFrame(
        rows, geometry=extra.geometry.representative_point().values, crs=facilities.crs
    )
    return gpd.GeoDataFrame(pd.concat([facilities, added], ignore_index=True), crs=facilities.crs)
