"""Attach points to the streets: the nearest point on the nearest walkable street piece.

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


@dataclass
class Attachment:
    """Where points join the streets.

    ``piece`` is the street piece's index (as given to ``Streets``), ``offset_m`` the distance
    along it from its first end, ``connector_m`` the straight walk from the point to the
    street (part of every walk), ``joined_xy`` the point on the street.
    """

    piece: np.ndarray
    offset_m: np.ndarray
    connector_m: np.ndarray
    joined_xy: np.ndarray


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
    """

    def __init__(
        self, a_xy: np.ndarray, b_xy: np.ndarray, length_m: np.ndarray, ids: np.ndarray
    ) -> None:
        self.a_xy, self.b_xy = a_xy, b_xy
        self.length_m, self.ids = length_m, ids

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
        t = np.einsum("ij,ij->i", xy - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
        t = np.clip(t, 0.0, 1.0)
        joined = a + ab * t[:, None]
        connector = np.hypot(*(xy - joined).T)
        return Attachment(self.ids[k], t * self.length_m[k], connector, joined)


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
    return Streets(a, b, network.length_m[idx], idx)
