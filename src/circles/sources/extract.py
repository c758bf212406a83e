"""What circles keeps of an OSM extract: highway ways and candidate features, clipped to the
area read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"


@dataclass
class Ways:
    """Highway ways clipped to the read area: what the walking network is built from.

    Attributes
    ----------
    way_ids, tags
        The ways and their walking-relevant tags (position i describes way i).
    segments
        ``(n, 2)`` int64 OSM node ids of consecutive way nodes, with ``segment_way`` the way
        index of each segment; only segments touching the study area are kept.
    node_ids, node_lonlat
        Sorted OSM node ids used by ``segments`` and their coordinates.
    """

    way_ids: np.ndarray
    tags: list[dict[str, str]]
    segments: np.ndarray
    segment_way: np.ndarray
    node_ids: np.ndarray
    node_lonlat: np.ndarray


@dataclass
class OsmExtract:
    """What circles needs from an extract, already clipped to the read area.

    Attributes
    ----------
    path, sha256
        The file read and its content hash.
    bounds
        The extract's data bounds (header box, else the extent of its nodes), WGS-84.
    read_area
        The area read: the study area and the buffer around it, WGS-84.
    features
        Tagged nodes and areas (closed ways, multipolygons) that may be facilities,
        buildings or residential land: columns ``osm_type``, ``osm_id``, ``name``,
        ``tags`` (dict) and ``geometry`` (WGS-84), clipped to the read area.
    data_date
        Date of the data (header timestamp, else the newest object), ISO format.
    ways
        The highway ways (see ``Ways``). Loaded on first use when the extract comes from the
        cache, where a cached network does not need them.
    cache, cache_key
        ``"hit"`` (loaded from ``circles.sources.cache``), ``"miss"`` (read, then cached) or
        ``"off"``; and the cache key (None when off).
    warnings
        What the planner should know about the extract (e.g. the area only partly inside).
    """

    path: Path
    sha256: str
    bounds: Polygon
    read_area: BaseGeometry
    features: gpd.GeoDataFrame
    data_date: str
    _ways: Ways | Callable[[], Ways] = field(repr=False)  # the ways, or how to load them
    warnings: list[str] = field(default_factory=list)
    cache: str = "off"
    cache_key: str | None = None

    @property
    def ways(self) -> Ways:
        """The highway ways (loaded now if they were left in the cache)."""
        if callable(self._ways):
            self._ways = self._ways()
        return self._ways
