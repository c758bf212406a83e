"""One multi-source shortest-path search per category -> walking distance per demand point;
and the search from one proposed site."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
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
    graph: RoutingGraph, facility_rows: np.ndarray, limit_m: float
) -> CategoryAccess:
    """Walking distance from every demand point to the nearest of some facilities.

    One multi-source Dijkstra from the facilities' source nodes, cut off at ``limit_m``; a
    point's walk is then the shortest over its joins (``RoutingGraph.point_dist``).

    Parameters
    ----------
    graph
        The routing graph.
    facility_rows
        Row indices (into the facility table) of this category's facilities.
    limit_m
        Search horizon in metres.
    """
    n_points = graph.n_points
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
    walk = graph.point_dist(dist, limit_m)
    row = graph.point_join_row(dist, walk)
    reached = row >= 0
    nearest = np.full(n_points, -1)
    # facility k's source node is facility_node[k] = facility_node[0] + k
    nearest[reached] = source[graph.point_node[row[reached]]] - graph.facility_node[0]
    return CategoryAccess(dist, np.where(reached, walk, np.nan), nearest, limit_m)


@dataclass
class SiteReach:
    """Where one proposed site joins the streets and how far it is from every routing node;
    and the homes it reaches straight across its block."""

    xy: np.ndarray
    connector_m: float  # to the nearest street
    ends: np.ndarray  # the end nodes of the street pieces it joins
    to_ends_m: np.ndarray  # walking distance from the site to each end
    node_dist_m: np.ndarray  # per routing node; inf beyond the limit
    across_points: np.ndarray  # demand points it reaches across its block (ascending)
    across_m: np.ndarray  # their straight walks


def reach_from_site(
    graph: RoutingGraph,
    xy: np.ndarray,
    limit_m: float,
    extra_m: float = 0.0,
    max_streets: int = 1,
    across_m: float = 0.0,
) -> SiteReach:
    """Attach a metric point to the streets as a point facility joins them and search outwards.

    The site joins every street piece it is attached to (``Streets.attach_near`` with
    ``extra_m`` and ``max_streets``) by edges to both ends of each, its connector and the
    walk along the piece; one search from it, bounded by ``limit_m``, gives the exact
    distance to every node (every walk leaves the site through one of those ends), ``inf``
    beyond, as in ``nearest_facility``. The search runs on ``graph.site_search``: one source
    and only the nodes within the limit, however large the city. Homes within ``across_m``
    whose straight line to the site crosses no street reach it that way too
    (``Streets.across``, as the analysis links homes and facilities).
    """
    xy = np.asarray(xy, dtype=float).reshape(2)
    site = shapely.points([xy])
    att = graph.streets.attach_near(site, extra_m, max_streets)
    piece = att.piece
    ends = np.concatenate([graph.edge_u[piece], graph.edge_v[piece]])
    to_ends = np.concatenate(
        [att.connector_m + att.offset_m, att.connector_m + graph.edge_w[piece] - att.offset_m]
    )
    nodes, first = np.unique(ends, return_inverse=True)
    weights = np.full(len(nodes), np.inf)
    np.minimum.at(weights, first.ravel(), to_ends)  # two pieces may share an end
    matrix, lock = graph.site_search
    n = graph.n_nodes
    with lock:
        start = matrix.indptr[n]  # the site's row: its edges, then self-loops (no effect)
        matrix.indices[start:], matrix.data[start:] = n, 0.0
        matrix.indices[start : start + len(nodes)] = nodes
        matrix.data[start : start + len(nodes)] = weights
        node_dist = dijkstra(matrix, indices=n, limit=limit_m)[:n]
    points, _, metres = graph.streets.across(graph.point_geoms, site, across_m, graph.point_blocks)
    return SiteReach(xy, float(att.connector_m[0]), ends, to_ends, node_dist, points, metres)


def site_walks_near(
    graph: RoutingGraph, site: SiteReach, limit_m: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """The demand points a site reaches within ``limit_m`` and their walks to it, the
    shortest of along the streets and straight across the block: ``(points, walks)``,
    the points ascending (``RoutingGraph.point_dist_near``)."""
    points, walks = graph.point_dist_near(site.node_dist_m, limit_m)
    near = site.across_m <= limit_m
    points = np.concatenate([points, site.across_points[near]])
    walks = np.concatenate([walks, site.across_m[near]])
    order = np.lexsort((walks, points))
    points, first = np.unique(points[order], return_index=True)  # each point's shortest
    return points, walks[order][first]


def site_walks(graph: RoutingGraph, site: SiteReach, limit_m: float = np.inf) -> np.ndarray:
    """Every demand point's walk to a site (``site_walks_near``), ``inf`` if not reached."""
    points, walks = site_walks_near(graph, site, limit_m)
    out = np.full(graph.n_points, np.inf)
    out[points] = walks
    return out
