"""One multi-source shortest-path search per category -> walking distance per demand point;
and the search from one proposed site."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from circles.access.graph import RoutingGraph


@dataclass
class CategoryAccess:
    """Result of one category's search."""

    node_dist_m: np.ndarray  # per routing-graph node; inf beyond the limit
    point_dist_m: np.ndarray  # per demand point, connector included; NaN if not reached
    nearest_facility: np.ndarray  # facility row index per demand point, -1 if not reached
    limit_m: float


def nearest_facility(
    graph: RoutingGraph,
    facility_rows: np.ndarray,
    point_connector_m: np.ndarray,
    limit_m: float,
) -> CategoryAccess:
    """Walking distance from every demand point to the nearest of some facilities.

    One multi-source Dijkstra from the facilities' source nodes, cut off at ``limit_m``.

    Parameters
    ----------
    graph
        The routing graph.
    facility_rows
        Row indices (into the facility table) of this category's facilities.
    point_connector_m
        Connector length of every demand point.
    limit_m
        Search horizon in metres.
    """
    n_points = len(graph.point_node)
    if len(facility_rows) == 0:
        return CategoryAccess(
            np.full(graph.n_nodes, np.inf),
            np.full(n_points, np.nan),
            np.full(n_points, -1),
            limit_m,
        )
    sources = graph.facility_node[facility_rows]
    dist, _, source = dijkstra(
        graph.matrix, indices=sources, min_only=True, limit=limit_m, return_predecessors=True
    )
    at_point = dist[graph.point_node]
    reached = np.isfinite(at_point)
    point_dist = np.where(reached, at_point + point_connector_m, np.nan)
    nearest = np.full(n_points, -1)
    # facility k's source node is facility_node[k] = facility_node[0] + k
    nearest[reached] = source[graph.point_node[reached]] - graph.facility_node[0]
    return CategoryAccess(dist, point_dist, nearest, limit_m)


@dataclass
class SiteReach:
    """Where one proposed site joins the streets and how far it is from every routing node."""

    xy: np.ndarray
    connector_m: float
    ends: tuple[int, int]  # the street piece's end nodes
    to_ends_m: tuple[float, float]  # walking distance from the site to each end
    node_dist_m: np.ndarray  # per routing node; inf beyond the limit


def reach_from_site(graph: RoutingGraph, xy: np.ndarray, limit_m: float) -> SiteReach:
    """Attach a metric point to the nearest street piece and search outwards from it.

    Two bounded searches, from both ends of the piece it joins, give the exact distance to
    every node: every walk leaves the piece through one of its ends. Distances beyond
    ``limit_m`` are ``inf``, as in ``nearest_facility``; the site's connector counts.
    """
    att = graph.streets.attach(np.asarray(xy, dtype=float).reshape(1, 2))
    piece, offset, connector = int(att.piece[0]), float(att.offset_m[0]), float(att.connector_m[0])
    a, b = int(graph.edge_u[piece]), int(graph.edge_v[piece])
    to_a = connector + offset
    to_b = connector + float(graph.edge_w[piece]) - offset
    d = dijkstra(graph.matrix, indices=[a, b], limit=limit_m)
    node_dist = np.minimum(to_a + d[0], to_b + d[1])
    node_dist[node_dist > limit_m] = np.inf
    return SiteReach(np.asarray(xy, float), connector, (a, b), (to_a, to_b), node_dist)
