"""Walking service areas: the street pieces reachable within 5/10/15 minutes, as polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from circles.access.graph import RoutingGraph
from circles.standards import Standards

SERVICE_MINUTES = (5, 10, 15)


def service_areas(
    graph: RoutingGraph,
    crs: CRS,
    node_dist_m: np.ndarray,
    standards: Standards,
    profile: str,
    minutes: tuple[int, ...] = SERVICE_MINUTES,
    buffer_m: float = 25.0,
) -> gpd.GeoDataFrame:
    """Reachable street pieces (cut where the time runs out), buffered and merged.

    Parameters
    ----------
    graph
        The routing graph.
    crs
        Its metric CRS.
    node_dist_m
        Walking distance from the origin(s) to every routing node.
    standards, profile
        The speed profile that turns minutes into metres (``Standards.category_profile``).

    Returns
    -------
    GeoDataFrame
        One polygon per ring with ``minutes`` and ``distance_m``, WGS-84.
    """
    idx = graph.street_pieces
    u, v, w = graph.edge_u[idx], graph.edge_v[idx], graph.edge_w[idx]
    pu, pv = graph.node_xy[u], graph.node_xy[v]
    du, dv = node_dist_m[u], node_dist_m[v]
    rows = []
    for minute in minutes:
        limit = standards.minutes_to_m(minute, profile)
        reach_u = np.clip(limit - du, 0, w)
        reach_v = np.clip(limit - dv, 0, w)
        full = reach_u + reach_v >= w
        from_u = ~full & (reach_u > 0)
        from_v = ~full & (reach_v > 0)
        lines = [
            np.stack([pu[full], pv[full]], axis=1),
            np.stack([pu[from_u], pu[from_u] + (pv - pu)[from_u] * (reach_u / w)[from_u, None]], 1),
            np.stack([pv[from_v], pv[from_v] + (pu - pv)[from_v] * (reach_v / w)[from_v, None]], 1),
        ]
        segments = shapely.linestrings(np.concatenate(lines))
        area = shapely.union_all(shapely.buffer(segments, buffer_m, quad_segs=4))
        rows.append({"minutes": minute, "distance_m": round(limit, 1), "geometry": area})
    return gpd.GeoDataFrame(rows, crs=crs).to_crs("EPSG:4326")
