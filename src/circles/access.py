"""One multi-source shortest-path search per category -> walking distance per demand point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from circles.network import Network, Snap

SNAP_TOLERANCE_M = 1e-3  # points closer than this to an edge end join that node


@dataclass
class RoutingGraph:
    """The walking network split at every snapped point, plus one source node per facility.

    Nodes ``0..n_network-1`` are network nodes, then split points, then one virtual node per
    facility with a single directed edge (its connector) to where it joins the network; a
    search started from virtual nodes therefore counts every facility's connector.
    """

    matrix: csr_array
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_w: np.ndarray
    directed: np.ndarray
    edge_source: np.ndarray  # network edge each street piece comes from; -1 for connectors
    node_xy: np.ndarray  # metric coordinates (a facility node sits where it joins)
    point_node: np.ndarray
    facility_node: np.ndarray  # source node of facility k: facility_node[0] + k (last nodes)
    n_network: int

    @property
    def n_nodes(self) -> int:
        return self.matrix.shape[0]


def routing_graph(network: Network, points: Snap, facilities: Snap) -> RoutingGraph:
    """Split edges where demand points and facilities join, and add facility source nodes.

    Parameters
    ----------
    network
        The walking network.
    points, facilities
        Snaps of demand points and facilities to the network.
    """
    n = network.n_nodes
    edge = np.concatenate([points.edge, facilities.edge])
    offset = np.concatenate([points.offset_m, facilities.offset_m])
    length = network.length_m[edge]
    at_u = offset <= SNAP_TOLERANCE_M
    at_v = offset >= length - SNAP_TOLERANCE_M
    node = np.where(at_u, network.edge_u[edge], network.edge_v[edge]).astype(np.int64)
    inner = ~(at_u | at_v)

    # interior split points: one node per distinct (edge, offset in mm), as one sortable key
    mm = np.round(offset[inner] * 1000).astype(np.int64)
    key = edge[inner].astype(np.int64) << 32 | mm  # offsets < 2**32 mm (4,295 km)
    uniq, inv = np.unique(key, return_inverse=True)
    node[inner] = n + inv
    split_edge, split_off = uniq >> 32, (uniq & 0xFFFFFFFF) / 1000.0
    n_split = len(uniq)

    # chains u -> s1 -> ... -> sk -> v along each split edge (uniq is sorted by edge, offset)
    split_ids = n + np.arange(n_split)
    first = np.ones(n_split, bool)
    first[1:] = split_edge[1:] != split_edge[:-1]
    last = np.ones(n_split, bool)
    last[:-1] = split_edge[1:] != split_edge[:-1]
    prev_node = np.where(first, network.edge_u[split_edge], np.roll(split_ids, 1))
    prev_off = np.where(first, 0.0, np.roll(split_off, 1))
    chain_u = np.concatenate([prev_node, split_ids[last]])
    chain_v = np.concatenate([split_ids, network.edge_v[split_edge[last]]])
    chain_w = np.concatenate(
        [split_off - prev_off, network.length_m[split_edge[last]] - split_off[last]]
    )
    keep = np.ones(network.n_edges, bool)
    keep[split_edge] = False
    source = np.concatenate([np.flatnonzero(keep), split_edge, split_edge[last]])
    und_u = np.concatenate([network.edge_u[keep], chain_u])
    und_v = np.concatenate([network.edge_v[keep], chain_v])
    und_w = np.concatenate([network.length_m[keep], chain_w])

    n_points = len(points.edge)
    fac_node = n + n_split + np.arange(len(facilities.edge))
    total = n + n_split + len(facilities.edge)
    index = np.int32 if total < 2**31 else np.int64  # scipy's own choice, made before it copies
    rows = np.concatenate([und_u, und_v, fac_node], dtype=index, casting="same_kind")
    cols = np.concatenate([und_v, und_u, node[n_points:]], dtype=index, casting="same_kind")
    weights = np.concatenate([und_w, und_w, facilities.connector_m])
    matrix = csr_array((weights, (rows, cols)), shape=(total, total))
    a, b = network.node_xy[network.edge_u[split_edge]], network.node_xy[network.edge_v[split_edge]]
    frac = (split_off / network.length_m[split_edge])[:, None]
    node_xy = np.concatenate([network.node_xy, a + (b - a) * frac, facilities.snapped_xy])
    return RoutingGraph(
        matrix=matrix,
        edge_u=np.concatenate([und_u, fac_node]),
        edge_v=np.concatenate([und_v, node[n_points:]]),
        edge_w=np.concatenate([und_w, facilities.connector_m]),
        directed=np.concatenate([np.zeros(len(und_u), bool), np.ones(len(fac_node), bool)]),
        edge_source=np.concatenate([source, np.full(len(fac_node), -1)]),
        node_xy=node_xy,
        point_node=node[:n_points],
        facility_node=fac_node,
        n_network=n,
    )


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
