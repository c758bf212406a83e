"""Attach points to the streets: the nearest point on the nearest walkable street piece, or
on every street nearly as near (``Streets.attach_near``), as people walk out of a block on
whichever side is shortest; and the straight walks across a block between homes and the
facilities in it (``Streets.across``).

Homes, facilities, proposed sites and candidates all join the network through ``Streets``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from circles.model.network import Network

PARALLEL_POINTS = 20_000  # above this, queries run on all cores (GEOS releases the GIL)
END_M = 1e-3  # a walk across a block may touch a street this near its ends
CROSSING_CHUNK = 500_000  # walks across blocks checked against the streets at a time
FEW_GEOMETRIES = 64  # up to this many (a site): their blocks are found from the tree of blocks


@dataclass
class Attachment:
    """Where points (or areas) join the streets: one row per join.

    ``piece`` is the street piece's index (as given to ``Streets``), ``offset_m`` the distance
    along it from its first end, ``connector_m`` the straight walk from the point to the
    street (part of every walk), ``joined_xy`` the point on the street. ``owner`` is the point
    each row belongs to: rows are grouped by owner, nearest first, every owner has at least one
    row (``None``: one row per point, row ``i`` for point ``i``).
    """

    piece: np.ndarray
    offset_m: np.ndarray
    connector_m: np.ndarray
    joined_xy: np.ndarray
    owner: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Default owner: one row per point."""
        if self.owner is None:
            self.owner = np.arange(len(self.piece))

    @property
    def starts(self) -> np.ndarray:
        """The first (nearest) row of every owner."""
        first = np.ones(len(self.owner), bool)
        first[1:] = self.owner[1:] != self.owner[:-1]
        return np.flatnonzero(first)

    def first(self) -> Attachment:
        """The nearest join of every owner (one row per owner)."""
        rows = self.starts
        return Attachment(
            self.piece[rows], self.offset_m[rows], self.connector_m[rows], self.joined_xy[rows]
        )


class Streets:
    """Straight street pieces ``a -> b`` (metric), indexed for nearest-piece queries.

    Parameters
    ----------
    a_xy, b_xy
        End coordinates of every piece, ``(n, 2)``.
    length_m
        Walking length of every piece.
    ids
        The index each piece is reported by (e.g. its network edge).
    street
        The street (OSM way) of every piece; a point joins a street at most once. ``None``:
        every piece is a street of its own.
    """

    def __init__(
        self,
        a_xy: np.ndarray,
        b_xy: np.ndarray,
        length_m: np.ndarray,
        ids: np.ndarray,
        street: np.ndarray | None = None,
    ) -> None:
        self.a_xy, self.b_xy = a_xy, b_xy
        self.length_m, self.ids = length_m, ids
        self.street = np.arange(len(ids)) if street is None else np.asarray(street)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """R-tree of the pieces."""
        return shapely.STRtree(shapely.linestrings(np.stack([self.a_xy, self.b_xy], axis=1)))

    def attach(self, xy: np.ndarray) -> Attachment:
        """Attach metric points ``(n, 2)`` to their nearest street piece."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if len(xy) == 0:
            return Attachment(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty((0, 2)))
        k = _nearest(self.tree, shapely.points(xy))
        a, ab = self.a_xy[k], self.b_xy[k] - self.a_xy[k]
        t = _along(xy, a, ab)
        joined = a + ab * t[:, None]
        connector = np.hypot(*(xy - joined).T)
        return Attachment(self.ids[k], t * self.length_m[k], connector, joined)

    def attach_near(
        self, geoms: np.ndarray, extra_m: float, max_streets: int | np.ndarray
    ) -> Attachment:
        """Attach points or areas to every street within ``extra_m`` of their nearest one.

        A geometry joins each street (``street`` id) at most once, where the street comes
        closest to it; the ``max_streets`` nearest such streets are kept (a number, or one
        per geometry). Points join by projection, areas where their outline meets or comes
        closest to a piece (a piece inside an area joins at distance 0). Rows are grouped by
        geometry, nearest first; the first is what ``attach`` gives a point.

        Parameters
        ----------
        geoms
            Shapely geometries, metric, none empty.
        extra_m
            How much farther than its nearest street a join may be.
        max_streets
            At most this many joins per geometry (at least 1).
        """
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms) == 0:
            return Attachment(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty((0, 2)))
        nearest_m = _nearest_distance(self.tree, geoms)
        g, k = self.tree.query(geoms, predicate="dwithin", distance=nearest_m + extra_m + 1e-6)
        connector, joined, t = self._closest(geoms, g, k)
        place = np.unique(np.round(joined * 1000), axis=0, return_inverse=True)[1].ravel()
        most = np.broadcast_to(np.asarray(max_streets), (len(geoms),))
        keep = _first_per_street(g, self.street[k], place, connector, k, most)
        g, k, connector, joined, t = g[keep], k[keep], connector[keep], joined[keep], t[keep]
        return Attachment(self.ids[k], t * self.length_m[k], connector, joined, owner=g)

    @cached_property
    def blocks(self) -> shapely.STRtree:
        """R-tree of the street blocks: the areas the pieces enclose (pieces that cross
        without a shared node, at a bridge, are split where they cross), and the land around
        the streets as one more block, up to a frame 1 km beyond them."""
        pieces = self.tree.geometries
        x0, y0, x1, y1 = shapely.total_bounds(pieces) + np.array([-1, -1, 1, 1]) * 1000.0
        frame = shapely.boundary(shapely.box(x0, y0, x1, y1))
        noded = shapely.node(shapely.multilinestrings([*pieces, frame]))
        return shapely.STRtree(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))

    def in_blocks(self, geoms: np.ndarray) -> np.ndarray:
        """Rows (geometries, blocks): the blocks each geometry touches (a point on a street
        lies in the blocks on both sides of it). Many geometries are found from the blocks,
        each block's outline prepared once (the land around the streets is one polygon with
        a hole per block: testing every home against it alone would take minutes on a city).
        """
        geoms = np.asarray(geoms, object)
        if len(geoms) <= FEW_GEOMETRIES:
            return self.blocks.query(geoms, predicate="intersects")
        block, geom = shapely.STRtree(geoms).query(self.blocks.geometries, "intersects")
        order = np.lexsort((block, geom))
        return np.stack([geom[order], block[order]])

    def across(
        self,
        points: np.ndarray,
        shapes: np.ndarray,
        max_m: float,
        point_blocks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Straight walks across a block: the pairs (point ``i``, shape ``j``) in one street
        block at most ``max_m`` apart whose shortest straight line crosses no street piece:
        meets none but within ``END_M`` of its ends (so a line through the node where two
        pieces meet crosses; a point inside a shape is 0 m from it).

        Parameters
        ----------
        points
            Shapely points, metric.
        shapes
            Shapely geometries, metric, none empty.
        max_m
            The longest such walk; 0: none.
        point_blocks
            ``in_blocks(points)``, if known.

        Returns
        -------
        tuple of numpy.ndarray
            ``(i, j, metres)``, ordered by point, then shape.
        """
        points, shapes = np.asarray(points, object), np.asarray(shapes, object)
        none = np.empty(0, np.int64)
        if max_m <= 0 or not len(points) or not len(shapes):
            return none, none, np.empty(0)
        if point_blocks is None:
            point_blocks = self.in_blocks(points)
        i, j = _same_key(point_blocks, self.in_blocks(shapes))
        start, end = shapely.get_coordinates(points[i]), _shape_xy(shapes)[j]
        area = np.isnan(end[:, 0])  # the nearest point of an area (or entrances) by GEOS
        if area.any():
            line = shapely.shortest_line(points[i[area]], shapes[j[area]])
            end[area] = shapely.get_coordinates(line).reshape(-1, 2, 2)[:, 1]
        metres = np.hypot(*(end - start).T)
        near = np.flatnonzero(metres <= max_m)
        near = near[np.lexsort((j[near], i[near]))]
        repeat = (np.diff(i[near]) == 0) & (np.diff(j[near]) == 0)  # a pair in several blocks
        near = near[np.r_[True, ~repeat][: len(near)]]
        keep = near[~self._crossed(start[near], end[near], metres[near])]
        return i[keep], j[keep], metres[keep]

    def _crossed(self, start: np.ndarray, end: np.ndarray, metres: np.ndarray) -> np.ndarray:
        """Whether each segment ``start -> end`` (``metres`` long) meets a street piece other
        than within ``END_M`` of its ends."""
        crossed = np.zeros(len(metres), bool)
        long = np.flatnonzero(metres > 2 * END_M)
        for rows in np.array_split(long, len(long) // CROSSING_CHUNK + 1):  # bounded memory
            step = (end[rows] - start[rows]) * (END_M / metres[rows])[:, None]
            inner = np.stack([start[rows] + step, end[rows] - step], axis=1)
            k = self.tree.query(shapely.linestrings(inner), predicate="intersects")[0]
            crossed[rows[k]] = True
        return crossed

    def attach_entrances(
        self,
        geoms: np.ndarray,
        entrances: np.ndarray,
        extra_m: float,
        max_streets: int | np.ndarray,
        entrance_max_streets: int,
        frontage_m: float = 0.0,
    ) -> Attachment:
        """Attach facilities, those with mapped entrances at their entrances.

        A facility with entrances (a MultiPoint, metric) joins the streets at each of them, as
        a point (``attach_near`` with ``entrance_max_streets``); the others join from their
        geometry as ``attach_near`` does. An area without entrances also joins along its
        frontage: points every ``frontage_m`` on its outline join their nearest street where
        that is within ``extra_m`` of the area's nearest street, so a school alongside a
        street is reached from whichever end the walk comes (not only where it is closest).
        Rows are grouped by facility, nearest first.

        Parameters
        ----------
        geoms
            Shapely geometries, metric, none empty.
        entrances
            Per geometry: its entrances (MultiPoint, metric), or ``None``.
        extra_m
            How much farther than its nearest street a join may be.
        max_streets
            At most this many joins per geometry joined from its geometry.
        entrance_max_streets
            At most this many joins per entrance.
        frontage_m
            Spacing of the frontage points on outlines; 0: no frontage joins.
        """
        geoms = np.asarray(geoms, dtype=object)
        has = np.array([e is not None for e in entrances], bool).reshape(len(geoms))
        most = np.broadcast_to(np.asarray(max_streets), (len(geoms),))
        rest, rows = np.flatnonzero(~has), np.flatnonzero(has)
        parts = [(rest, self.attach_near(geoms[rest], extra_m, most[rest]))]
        if len(rows):
            points, index = shapely.get_parts(
                np.asarray(entrances, object)[rows], return_index=True
            )
            parts.append((rows[index], self.attach_near(points, extra_m, entrance_max_streets)))
        if frontage_m > 0:
            parts.append(self._frontage(geoms, rest, extra_m, frontage_m))
        owner = np.concatenate([at[join.owner] for at, join in parts])
        piece = np.concatenate([join.piece for _, join in parts])
        connector = np.concatenate([join.connector_m for _, join in parts])
        offset = np.concatenate([join.offset_m for _, join in parts])
        joined = np.concatenate([join.joined_xy for _, join in parts])
        order = np.lexsort((offset, piece, connector, owner))
        return Attachment(
            piece[order], offset[order], connector[order], joined[order], owner=owner[order]
        )

    def _frontage(
        self, geoms: np.ndarray, rows: np.ndarray, extra_m: float, spacing_m: float
    ) -> tuple[np.ndarray, Attachment]:
        """Joins of points every ``spacing_m`` along the outlines of the areas ``geoms[rows]``
        to their nearest street, kept within ``extra_m`` of the area's nearest street; and
        the geometry index of each join."""
        areas = rows[shapely.get_type_id(geoms[rows]) >= 3]  # polygons and multipolygons
        rings = shapely.boundary(geoms[areas])
        steps = np.maximum(np.ceil(shapely.length(rings) / spacing_m), 1).astype(int)
        of = np.repeat(np.arange(len(areas)), steps)
        start = np.repeat(np.cumsum(steps) - steps, steps)
        fraction = (np.arange(len(of)) - start) / steps[of]
        points = shapely.line_interpolate_point(rings[of], fraction, normalized=True)
        join = self.attach_near(points, 0.0, 1)
        near = _nearest_distance(self.tree, geoms[areas])
        keep = join.connector_m <= near[of[join.owner]] + extra_m
        kept = Attachment(
            join.piece[keep], join.offset_m[keep], join.connector_m[keep], join.joined_xy[keep]
        )
        return areas[of[join.owner[keep]]], kept

    def _closest(
        self, geoms: np.ndarray, g: np.ndarray, k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For pairs (geometry ``g``, piece ``k``): the gap, the closest point on the piece and
        its position along the piece (0..1). Points by projection, other shapes by GEOS."""
        a, ab = self.a_xy[k], self.b_xy[k] - self.a_xy[k]
        is_point = shapely.get_type_id(geoms) == 0
        xy = np.full((len(geoms), 2), np.nan)
        xy[is_point] = shapely.get_coordinates(geoms[is_point])
        t = _along(xy[g], a, ab)
        joined = a + ab * t[:, None]
        connector = np.hypot(*(xy[g] - joined).T)
        area = ~is_point[g]
        if area.any():
            lines = shapely.shortest_line(geoms[g[area]], self.tree.geometries[k[area]])
            ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
            t[area] = _along(ends[:, 1], a[area], ab[area])
            joined[area] = a[area] + ab[area] * t[area, None]
            connector[area] = shapely.length(lines)
        return connector, joined, t


def _same_key(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (``a`` item, ``b`` item) that share a key, from rows (items, keys); a pair
    sharing several keys comes once per key."""
    a_item, a_key = a
    order = np.argsort(b[1], kind="stable")
    b_item, b_key = b[0][order], b[1][order]
    lo, hi = np.searchsorted(b_key, a_key, "left"), np.searchsorted(b_key, a_key, "right")
    count = hi - lo
    at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())
    return np.repeat(a_item, count), b_item[at]


def _shape_xy(shapes: np.ndarray) -> np.ndarray:
    """The coordinates of the shapes that are points; NaN for the others."""
    xy = np.full((len(shapes), 2), np.nan)
    is_point = shapely.get_type_id(shapes) == 0
    xy[is_point] = shapely.get_coordinates(shapes[is_point])
    return xy


def _along(xy: np.ndarray, a: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Position (0..1) of the projection of ``xy`` on the pieces ``a -> a + ab``."""
    t = np.einsum("ij,ij->i", xy - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    return np.clip(t, 0.0, 1.0)


def _first_per_street(
    g: np.ndarray,
    street: np.ndarray,
    place: np.ndarray,
    gap: np.ndarray,
    piece: np.ndarray,
    most: np.ndarray,
) -> np.ndarray:
    """Rows to keep of the pairs (geometry ``g``, piece): per geometry the nearest piece of
    each street, one join per place (streets meeting at a crossing join there once), the
    ``most`` nearest; ordered by geometry, then gap (ties: piece)."""
    order = np.lexsort((piece, gap, g))
    order = order[_first_of_group(g[order], place[order])]
    order = order[_first_of_group(g[order], street[order])]
    g_k = g[order]
    start = np.flatnonzero(np.r_[True, g_k[1:] != g_k[:-1]])
    rank = np.arange(len(g_k)) - np.repeat(start, np.diff(np.r_[start, len(g_k)]))
    return order[rank < most[g_k]]


def _first_of_group(g: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Whether each row is the first of its ``(g, key)`` group (rows in order)."""
    pair = np.lexsort((np.arange(len(g)), key, g))
    same = np.zeros(len(pair), bool)
    same[1:] = (g[pair][1:] == g[pair][:-1]) & (key[pair][1:] == key[pair][:-1])
    first = np.ones(len(g), bool)
    first[pair[same]] = False
    return first


def _nearest_distance(tree: shapely.STRtree, geoms: np.ndarray) -> np.ndarray:
    """Distance from each geometry to its nearest tree geometry."""
    idx, dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.inf)
    out[idx[0]] = dist
    return out


def _nearest(tree: shapely.STRtree, points: np.ndarray) -> np.ndarray:
    """Index of the nearest tree geometry to each point; large batches in parallel threads."""
    workers = os.cpu_count() or 1
    if len(points) < PARALLEL_POINTS or workers == 1:
        return tree.query_nearest(points, all_matches=False)[1]
    chunks = np.array_split(points, workers * 4)
    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(lambda c: tree.query_nearest(c, all_matches=False)[1], chunks)
        return np.concatenate(list(parts))


def network_streets(network: Network) -> Streets:
    """The street pieces of the network's main piece, where homes and facilities join.

    Pieces are reported by their network edge index.
    """
    idx = network.main_edges
    a, b = network.node_xy[network.edge_u[idx]], network.node_xy[network.edge_v[idx]]
    return Streets(a, b, network.length_m[idx], idx, network.edge_way_id[idx])
