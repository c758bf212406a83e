"""The routing graph: the walking network split where homes and facilities join it (a home or
facility may join several streets), plus one source node per facility, which homes across
its block also join; saved and loaded as named arrays."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from scipy.sparse import csr_array

from circles.access.attach import Attachment, Streets
from circles.model.network import Network

SNAP_TOLERANCE_M = 1e-3  # points closer than this to an edge end join that node
SITE_SLOTS = 64  # edges out of a proposed site: both ends of at most 32 joined streets


@dataclass
class RoutingGraph:
    """The walking network split at every snapped point, plus one source node per facility.

    Nodes ``0..n_network-1`` are network nodes, then split points, then one virtual node per
    facility with one directed edge (a connector) to every place it joins the network; a
    search started from virtual nodes therefore counts every facility's connector, and takes
    the shortest way out of it. A demand point joins at ``point_node`` (one row per join, with
    its ``point_connector_m``, grouped by ``point_owner``, the demand point): its walk is the
    shortest over its joins of node distance plus connector (``point_dist``). A home that
    walks straight across its block to a facility (``Streets.across``) also joins that
    facility's source node, its connector the straight walk: a search from the facility
    reaches it at most that far, a search of any other category not through it.
    """

    matrix: csr_array
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_w: np.ndarray
    directed: np.ndarray
    edge_source: np.ndarray  # network edge each street piece comes from; -1 for connectors
    node_xy: np.ndarray  # metric coordinates (a facility node sits where it joins)
    point_node: np.ndarray  # per join of a demand point
    point_connector_m: np.ndarray  # per join: its straight walk to the street
    point_owner: np.ndarray  # per join: its demand point (grouped, first a street join)
    point_xy: np.ndarray  # metric coordinates of every demand point (none: unknown)
    facility_node: np.ndarray  # source node of facility k: facility_node[0] + k (last nodes)
    n_network: int
    network_highway: np.ndarray  # highway type of every network edge
    network_in_main: np.ndarray  # whether each network edge is in the main piece
    network_way: np.ndarray  # OSM way of every network edge (a point joins a way once)

    @property
    def n_nodes(self) -> int:
        """Number of routing nodes (network, split points, facility sources)."""
        return self.matrix.shape[0]

    @cached_property
    def point_starts(self) -> np.ndarray:
        """The first join row of every demand point."""
        return np.flatnonzero(np.r_[True, self.point_owner[1:] != self.point_owner[:-1]])

    @property
    def n_points(self) -> int:
        """Number of demand points."""
        return len(self.point_starts) if len(self.point_owner) else 0

    def point_dist(self, node_dist_m: np.ndarray, limit_m: float = np.inf) -> np.ndarray:
        """Walk of every demand point: the shortest over its joins of node distance plus
        connector, a whole walk counted only up to ``limit_m`` (the search limit applies to
        the full distance, connector included); ``inf`` if none.

        ``node_dist_m`` holds one distance per routing node, or one row per origin
        ``(k, n_nodes)`` (then the result is ``(k, n_points)``).
        """
        d = np.asarray(node_dist_m)[..., self.point_node] + self.point_connector_m
        d = np.where(d <= limit_m, d, np.inf)
        if d.shape[-1] == 0:
            return d
        return np.minimum.reduceat(d, self.point_starts, axis=-1)

    def point_dist_near(
        self, node_dist_m: np.ndarray, limit_m: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """``point_dist`` of the points with a finite walk only, found from the reached nodes
        (a search from one site reaches a small part of a city): ``(points, walks)``, the
        points ascending."""
        _, rows, d = self._joins_reached(np.asarray(node_dist_m)[None, :], limit_m)
        order = np.argsort(rows, kind="stable")
        rows, d = rows[order], d[order]
        points, first_row = np.unique(self.point_owner[rows], return_index=True)
        if not len(points):
            return points, d[:0]
        return points, np.minimum.reduceat(d, first_row)

    def points_within(
        self, node_dist_m: np.ndarray, limit_m: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (origin, demand point) whose walk is within ``limit_m``, from one row of
        node distances per origin ``(k, n_nodes)``, found from the reached nodes only (a
        point may come more than once)."""
        origin, rows, _ = self._joins_reached(node_dist_m, limit_m)
        return origin, self.point_owner[rows]

    def _joins_reached(
        self, node_dist_m: np.ndarray, limit_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The joins at the reached nodes of each origin whose walk is within ``limit_m``:
        ``(origin, join row, walk)``."""
        origin, node = np.nonzero(np.isfinite(node_dist_m))
        order, starts = self._joins_by_node
        first, count = starts[node], starts[node + 1] - starts[node]
        at = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
        origin, node, rows = np.repeat(origin, count), np.repeat(node, count), order[at]
        d = node_dist_m[origin, node] + self.point_connector_m[rows]
        keep = d <= limit_m
        return origin[keep], rows[keep], d[keep]

    @cached_property
    def point_geoms(self) -> np.ndarray:
        """The demand points as shapely points (metric)."""
        return shapely.points(self.point_xy)

    @cached_property
    def point_blocks(self) -> np.ndarray:
        """Rows (demand points, street blocks they lie in) (``Streets.in_blocks``)."""
        return self.streets.in_blocks(self.point_geoms)

    @cached_property
    def _joins_by_node(self) -> tuple[np.ndarray, np.ndarray]:
        """Join rows sorted by node, and where each node's rows start (``n_nodes + 1``)."""
        order = np.argsort(self.point_node, kind="stable")
        starts = np.searchsorted(self.point_node[order], np.arange(self.n_nodes + 1))
        return order, starts

    @cached_property
    def site_search(self) -> tuple[csr_array, threading.Lock]:
        """The matrix with one more node, the last, whose ``SITE_SLOTS`` edges out a search
        from a proposed site sets (``search.reach_from_site``), holding the lock meanwhile."""
        m, n = self.matrix, self.n_nodes
        indptr = np.append(m.indptr, m.indptr[-1] + SITE_SLOTS).astype(m.indptr.dtype)
        indices = np.concatenate([m.indices, np.full(SITE_SLOTS, n, m.indices.dtype)])
        data = np.concatenate([m.data, np.zeros(SITE_SLOTS)])
        return csr_array((data, indices, indptr), shape=(n + 1, n + 1)), threading.Lock()

    def point_join_row(self, node_dist_m: np.ndarray, point_dist_m: np.ndarray) -> np.ndarray:
        """The join row that gives each point its walk ``point_dist_m`` (first such; -1 if
        the point is not reached)."""
        d = node_dist_m[self.point_node] + self.point_connector_m
        best = np.flatnonzero(d == point_dist_m[self.point_owner])
        owner, first = np.unique(self.point_owner[best], return_index=True)
        rows = np.full(self.n_points, -1)
        rows[owner] = best[first]
        rows[~np.isfinite(point_dist_m)] = -1
        return rows

    @cached_property
    def street_pieces(self) -> np.ndarray:
        """Undirected pieces of the main network piece: where proposed sites join."""
        main = self.network_in_main[np.maximum(self.edge_source, 0)]
        return np.flatnonzero(~self.directed & main)

    @cached_property
    def piece_highway(self) -> np.ndarray:
        """Highway type of every piece (empty for facility connectors)."""
        return np.where(
            self.edge_source >= 0, self.network_highway[np.maximum(self.edge_source, 0)], ""
        )

    @cached_property
    def streets(self) -> Streets:
        """The street pieces, indexed for attaching points (reported by piece index).

        Pieces are in network-edge order, as ``network_streets`` orders the unsplit edges, so
        that a point joins as a facility joined the network: where two streets are equally
        near, the same one is kept.
        """
        idx = self.street_pieces
        idx = idx[np.argsort(self.edge_source[idx], kind="stable")]
        a, b = self.node_xy[self.edge_u[idx]], self.node_xy[self.edge_v[idx]]
        way = self.network_way[self.edge_source[idx]]
        return Streets(a, b, self.edge_w[idx], idx, way)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The graph as named arrays (``from_arrays`` rebuilds the same graph)."""
        arrays = {f: getattr(self, f) for f in GRAPH_ARRAYS}
        m = self.matrix
        return arrays | {"indptr": m.indptr, "indices": m.indices, "data": m.data}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RoutingGraph:
        """The graph saved by ``to_arrays``."""
        n = len(arrays["node_xy"])
        matrix = csr_array((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n))
        fields = {f: arrays[f] for f in GRAPH_ARRAYS}
        return cls(matrix=matrix, **fields | {"n_network": int(arrays["n_network"])})


GRAPH_ARRAYS = (
    "edge_u",
    "edge_v",
    "edge_w",
    "directed",
    "edge_source",
    "node_xy",
    "point_node",
    "point_connector_m",
    "point_owner",
    "point_xy",
    "facility_node",
    "n_network",
    "network_highway",
    "network_in_main",
    "network_way",
)


def routing_graph(
    network: Network,
    points: Attachment,
    facilities: Attachment,
    point_xy: np.ndarray | None = None,
    across: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> RoutingGraph:
    """Split edges where demand points and facilities join, and add facility source nodes.

    Parameters
    ----------
    network
        The walking network.
    points, facilities
        Where demand points and facilities join the network (pieces are network edges; a
        point or facility may join at several rows, see ``Attachment.owner``).
    point_xy
        Metric coordinates of every demand point (where a proposed site's walks across a
        block start); ``None``: unknown (no site reaches a home across its block).
    across
        Straight walks across a block, ``(point, facility, metres)`` (``Streets.across``):
        each becomes a join of the point at the facility's source node.
    """
    n = network.n_nodes
    node, split_edge, split_off = _join_nodes(network, points, facilities)
    und_u, und_v, und_w, source = _split_edges(network, split_edge, split_off)
    n_points, n_split = len(points.piece), len(split_edge)
    n_fac = len(facilities.starts)
    fac_node = n + n_split + np.arange(n_fac)
    conn_u, conn_v, conn_w = _connectors(fac_node, facilities, node[n_points:])
    total = n + n_split + n_fac
    index = np.int32 if total < 2**31 else np.int64  # scipy's own choice, made before it copies
    rows = np.concatenate([und_u, und_v, conn_u], dtype=index, casting="same_kind")
    cols = np.concatenate([und_v, und_u, conn_v], dtype=index, casting="same_kind")
    weights = np.concatenate([und_w, und_w, conn_w])
    matrix = csr_array((weights, (rows, cols)), shape=(total, total))
    a, b = network.node_xy[network.edge_u[split_edge]], network.node_xy[network.edge_v[split_edge]]
    frac = (split_off / network.length_m[split_edge])[:, None]
    fac_xy = facilities.joined_xy[facilities.starts]
    joins = _point_joins(points, node[:n_points], fac_node, across)
    return RoutingGraph(
        matrix=matrix,
        edge_u=np.concatenate([und_u, conn_u]),
        edge_v=np.concatenate([und_v, conn_v]),
        edge_w=np.concatenate([und_w, conn_w]),
        directed=np.concatenate([np.zeros(len(und_u), bool), np.ones(len(conn_u), bool)]),
        edge_source=np.concatenate([source, np.full(len(conn_u), -1)]),
        node_xy=np.concatenate([network.node_xy, a + (b - a) * frac, fac_xy]),
        point_node=joins[0],
        point_connector_m=joins[1],
        point_owner=joins[2],
        point_xy=np.empty((0, 2)) if point_xy is None else point_xy,
        facility_node=fac_node,
        n_network=n,
        network_highway=network.edge_highway,
        network_in_main=network.component[network.edge_u] == network.main_component,
        network_way=network.edge_way_id,
    )


def _point_joins(
    points: Attachment,
    street_node: np.ndarray,
    fac_node: np.ndarray,
    across: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every join of the demand points (node, connector, owner): their street joins, then
    their walks across a block to a facility's source node, grouped by point (a stable sort:
    each point's street joins stay first, nearest first)."""
    if across is None or not len(across[0]):
        return street_node, points.connector_m, points.owner
    point, facility, metres = across
    owner = np.concatenate([points.owner, point])
    order = np.argsort(owner, kind="stable")
    node = np.concatenate([street_node, fac_node[facility]])[order]
    return node, np.concatenate([points.connector_m, metres])[order], owner[order]


def _connectors(
    fac_node: np.ndarray, facilities: Attachment, joined_node: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed connector edges from each facility's source node to every node it joins: the
    shortest of any that join one node (a sparse matrix would add them up)."""
    u = fac_node[facilities.owner] if len(fac_node) else np.empty(0, np.int64)
    v, w = joined_node.astype(np.int64), facilities.connector_m
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[first], v[first], w[first]


def _join_nodes(
    network: Network, points: Attachment, facilities: Attachment
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The node each point joins (an edge end, or a new split node), and the split points:
    one per distinct (edge, offset in mm), sorted by edge and offset."""
    n = network.n_nodes
    edge = np.concatenate([points.piece, facilities.piece])
    offset = np.concatenate([points.offset_m, facilities.offset_m])
    length = network.length_m[edge]
    at_u = offset <= SNAP_TOLERANCE_M
    at_v = offset >= length - SNAP_TOLERANCE_M
    node = np.where(at_u, network.edge_u[edge], network.edge_v[edge]).astype(np.int64)
    inner = ~(at_u | at_v)
    mm = np.round(offset[inner] * 1000).astype(np.int64)
    key = edge[inner].astype(np.int64) << 32 | mm  # offsets < 2**32 mm (4,295 km)
    uniq, inv = np.unique(key, return_inverse=True)
    node[inner] = n + inv
    return node, uniq >> 32, (uniq & 0xFFFFFFFF) / 1000.0


def _split_edges(
    network: Network, split_edge: np.ndarray, split_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Undirected pieces: unsplit edges, then chains u -> s1 -> ... -> sk -> v along each split
    edge; with the network edge each piece comes from."""
    n, n_split = network.n_nodes, len(split_edge)
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
    return und_u, und_v, und_w, source
