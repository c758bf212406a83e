"""Walking graph: filter walkable ways, project to metres, compact arrays, connected pieces."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from circles.errors import EmptyAreaError
from circles.messages import say
from circles.sources import cache
from circles.sources.extract import WGS84, OsmExtract, Ways
from circles.standards import NetworkSettings

log = logging.getLogger(__name__)


COMPOUND_SHARE = 0.5  # a compound road lies in residential land by at least this share


def is_walkable(
    tags: dict[str, str], settings: NetworkSettings, in_residential: bool = True
) -> bool:
    """Whether a highway way may be walked, from its highway, foot, access and sidewalk tags.

    Motorways, trunk roads and cycleways (``highway_need_foot_access``) count only with a
    tagged sidewalk or foot access; ``foot=no|private`` excludes; ``access=private|no``
    excludes unless ``foot`` allows it, or the way is a compound road residents walk
    (``access=private`` on a ``private_walkable_highways`` type, e.g. ``service``) and lies
    ``in_residential`` land (factories, barracks and campuses keep their private roads).
    """
    highway = tags.get("highway")
    if highway not in settings.highway_include:
        return False
    foot = tags.get("foot")
    if foot in settings.foot_deny_values:
        return False
    foot_allowed = foot in settings.foot_allow_values
    access = tags.get("access")
    compound = in_residential and is_compound_road(tags, settings)
    if access in settings.access_deny_values and not (foot_allowed or compound):
        return False
    if highway in settings.highway_need_foot_access:
        sidewalk = any(
            tags.get(key) in settings.sidewalk_values
            for key in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
        )
        return foot_allowed or sidewalk
    return True


def is_compound_road(tags: dict[str, str], settings: NetworkSettings) -> bool:
    """Whether a way is a compound road: ``access=private`` on a ``private_walkable_highways``
    type (walkable where it lies in residential land, see ``is_walkable``)."""
    highway = tags.get("highway")
    return tags.get("access") == "private" and highway in settings.private_walkable_highways


def residential_land(features: gpd.GeoDataFrame) -> shapely.Geometry:
    """The union of the ``landuse=residential`` areas among the features (WGS-84)."""
    if len(features) == 0:
        return shapely.Polygon()
    tags = features["tags"].to_numpy()
    geoms = features.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    keep = polygonal & np.fromiter(
        (t.get("landuse") == "residential" for t in tags), bool, len(tags)
    )
    return shapely.union_all(shapely.make_valid(geoms[keep])) if keep.any() else shapely.Polygon()


def share_inside(
    lonlat_a: np.ndarray, lonlat_b: np.ndarray, way: np.ndarray, n_ways: int, land: object
) -> np.ndarray:
    """Share of each way's length inside ``land`` (WGS-84), from its segments ``a -> b``
    (``way``: the way of each segment); lengths with longitude scaled by cos(latitude)."""
    total = np.zeros(n_ways)
    inside = np.zeros(n_ways)
    if len(way) == 0:
        return inside
    lines = shapely.linestrings(np.stack([lonlat_a, lonlat_b], axis=1))
    np.add.at(total, way, shapely.length(_squared(lines, lonlat_a)))
    if not land.is_empty:
        shapely.prepare(land)
        near = np.flatnonzero(shapely.intersects(land, lines))
        parts = shapely.intersection(lines[near], land)
        np.add.at(inside, way[near], shapely.length(_squared(parts, lonlat_a)))
    return np.divide(inside, total, out=np.zeros(n_ways), where=total > 0)


def _squared(geoms: np.ndarray, lonlat: np.ndarray) -> np.ndarray:
    """Geometries with longitude scaled by cos(latitude), so that lengths compare."""
    scale = np.cos(np.radians(np.nanmean(lonlat[:, 1]))) if len(lonlat) else 1.0
    return shapely.transform(geoms, lambda xy: xy * np.array([scale, 1.0]))


@dataclass
class Network:
    """An undirected walking network as compact arrays in a local metric CRS.

    Nodes are numbered ``0..n-1``; ``edge_u[i]``–``edge_v[i]`` is edge ``i`` (a straight
    segment between consecutive OSM way nodes), ``length_m[i]`` its length. ``cache`` says
    whether it was loaded from ``circles.sources.cache`` (``"hit"``), built and cached (``"miss"``)
    or built without the cache (``"off"``).
    """

    crs: CRS
    node_osm_id: np.ndarray
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length_m: np.ndarray
    edge_way_id: np.ndarray
    edge_highway: np.ndarray
    component: np.ndarray
    main_component: int
    read_area_m: shapely.Geometry  # the area read (study area and buffer), metric
    stats: dict[str, float | int] = field(default_factory=dict)
    cache: str = "off"

    @property
    def n_nodes(self) -> int:
        """Number of network nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of network edges."""
        return len(self.edge_u)

    @cached_property
    def main_edges(self) -> np.ndarray:
        """Indices of edges in the largest connected piece (where points are snapped)."""
        return np.flatnonzero(self.component[self.edge_u] == self.main_component)

    def to_metric(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Project WGS-84 longitude/latitude to this network's metric CRS, ``(n, 2)``."""
        x, y = Transformer.from_crs(WGS84, self.crs, always_xy=True).transform(lon, lat)
        return np.column_stack([x, y])

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The network's edges as a WGS-84 GeoDataFrame (for output and checks)."""
        lines = shapely.linestrings(
            np.stack([self.node_xy[self.edge_u], self.node_xy[self.edge_v]], axis=1)
        )
        frame = pd.DataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "u_osm_id": self.node_osm_id[self.edge_u],
                "v_osm_id": self.node_osm_id[self.edge_v],
                "way_id": self.edge_way_id,
                "highway": self.edge_highway,
                "length_m": self.length_m,
                "component": self.component[self.edge_u],
                "in_main": self.component[self.edge_u] == self.main_component,
            }
        )
        return gpd.GeoDataFrame(frame, geometry=lines, crs=self.crs).to_crs(WGS84)


def network_from_extract(
    extract: OsmExtract, settings: NetworkSettings, cache: bool = False
) -> Network:
    """Build the walking network of an extract.

    Parameters
    ----------
    extract
        The clipped extract (its ``ways`` are what the network is built from).
    settings
        Which highways are walkable (from the standards file).
    cache
        Reuse the network built earlier from the same extract and settings, from
        ``circles.sources.cache``; store it there when there is none. Only for an extract read with
        the cache (``read_extract(..., cache=True)``), whose key it extends.

    Returns
    -------
    Network
        Edges in a local UTM CRS, parallel edges merged (shortest kept), pieces labelled.

    Raises
    ------
    EmptyAreaError
        No walkable way in the study area.
    """
    if not (cache and extract.cache_key):
        return _build(extract, settings)
    key = _network_key(extract.cache_key, settings)
    network = _load_network(key)
    if network is None:
        network = _build(extract, settings)
        _store_network(key, network)
        network.cache = "miss"
    return network


def _build(extract: OsmExtract, settings: NetworkSettings) -> Network:
    """The walking network of an extract's ways (see ``network_from_extract``)."""
    ways = extract.ways
    segments, seg_way = _walkable_segments(extract, settings)
    node_osm_id, uv, lonlat = _number_nodes(ways, segments)
    crs = _utm_crs(lonlat)
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    node_osm_id, xy, uv, n_merged = _merge_coincident(node_osm_id, np.column_stack([x, y]), uv)
    edges = _undirected_edges(uv, seg_way, xy)
    n_pieces, labels, sizes = _pieces(len(node_osm_id), edges)
    main = int(np.argmax(sizes))
    stats = _stats(len(node_osm_id), edges, n_merged, n_pieces, sizes, main)
    return Network(
        crs=crs,
        node_osm_id=node_osm_id,
        node_xy=xy,
        edge_u=edges.u,
        edge_v=edges.v,
        length_m=edges.length_m,
        edge_way_id=ways.way_ids[edges.way],
        edge_highway=_edge_highways(ways, edges.way),
        component=labels,
        main_component=main,
        read_area_m=_project(extract.read_area, crs),
        stats=stats,
    )


@dataclass
class _Edges:
    """Undirected edges ``u < v`` in metres, each with the index of its way."""

    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    way: np.ndarray
    n_parallel: int  # parallel edges merged into these


def _walkable_segments(
    extract: OsmExtract, settings: NetworkSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Segments (OSM node id pairs) of walkable ways, and their way index.

    Raises
    ------
    EmptyAreaError
        No walkable segment in the study area.
    """
    ways = extract.ways
    walkable_way = np.fromiter(
        (is_walkable(tags, settings, in_residential=False) for tags in ways.tags),
        bool,
        len(ways.tags),
    )
    walkable_way |= _compound_roads(extract, settings)
    seg_keep = walkable_way[ways.segment_way] if len(ways.segment_way) else np.zeros(0, bool)
    segments = ways.segments[seg_keep]
    if len(segments) == 0:
        msg = say("run_no_walkable", file=extract.path.name, segments=len(ways.segments))
        raise EmptyAreaError(msg)
    return segments, ways.segment_way[seg_keep]


def _compound_roads(extract: OsmExtract, settings: NetworkSettings) -> np.ndarray:
    """Per way: a compound road (``is_compound_road``, walkable as is) lying mostly
    (``COMPOUND_SHARE``) inside residential land."""
    ways = extract.ways
    compound = np.fromiter(
        (is_compound_road(t, settings) and is_walkable(t, settings) for t in ways.tags),
        bool,
        len(ways.tags),
    )
    if not compound.any():
        return compound
    segs = np.flatnonzero(compound[ways.segment_way])
    ends = np.searchsorted(ways.node_ids, ways.segments[segs])
    a, b = ways.node_lonlat[ends[:, 0]], ways.node_lonlat[ends[:, 1]]
    land = residential_land(extract.features)
    share = share_inside(a, b, ways.segment_way[segs], len(ways.tags), land)
    return compound & (share >= COMPOUND_SHARE)


def _number_nodes(ways: Ways, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The OSM node ids the segments use (sorted), segments as ``(n, 2)`` indices into
    them, and the nodes' longitude/latitude."""
    used, inverse = np.unique(segments.ravel(), return_inverse=True)
    lonlat = ways.node_lonlat[np.searchsorted(ways.node_ids, used)]
    return used, inverse.reshape(-1, 2), lonlat


def _merge_coincident(
    node_osm_id: np.ndarray, xy: np.ndarray, uv: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Merge distinct OSM nodes at the same spot (to the millimetre): one place to a walker.

    Returns the kept nodes' ids and coordinates, ``uv`` renumbered, and how many merged.
    """
    _, first_at, canonical = np.unique(
        _cell_key(np.round(xy * 1000).astype(np.int64)), return_index=True, return_inverse=True
    )
    n_merged = len(node_osm_id) - len(first_at)
    keep_node = np.sort(first_at)
    renumber = np.empty(len(node_osm_id), np.int64)
    renumber[keep_node] = np.arange(len(keep_node))
    uv = renumber[first_at[canonical.ravel()]][uv]
    return node_osm_id[keep_node], xy[keep_node], uv, n_merged


def _undirected_edges(uv: np.ndarray, seg_way: np.ndarray, xy: np.ndarray) -> _Edges:
    """Segments as undirected edges: loops dropped, one edge per node pair (the shortest)."""
    not_loop = uv[:, 0] != uv[:, 1]
    uv, seg_way = uv[not_loop], seg_way[not_loop]
    length = np.hypot(*(xy[uv[:, 0]] - xy[uv[:, 1]]).T)
    lo, hi = uv.min(axis=1), uv.max(axis=1)
    order = np.lexsort((length, hi, lo))
    lo, hi, length, seg_way = lo[order], hi[order], length[order], seg_way[order]
    first = np.ones(len(lo), bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    n_parallel = int((~first).sum())
    return _Edges(lo[first], hi[first], length[first], seg_way[first], n_parallel)


def _pieces(n_nodes: int, edges: _Edges) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected pieces: their count, each node's piece label, and each piece's node count."""
    adjacency = coo_array((np.ones(len(edges.u)), (edges.u, edges.v)), shape=(n_nodes, n_nodes))
    n_pieces, labels = connected_components(adjacency, directed=False)
    return n_pieces, labels, np.bincount(labels)


def _edge_highways(ways: Ways, edge_way: np.ndarray) -> np.ndarray:
    """The ``highway`` tag of each edge's way."""
    # fixed-width strings: indexing and concatenating them stays in numpy
    way_highway = np.array([tags.get("highway", "") for tags in ways.tags], dtype=str)
    return way_highway[edge_way] if len(edge_way) else np.empty(0, dtype=str)


def _stats(
    n: int, edges: _Edges, n_merged: int, n_pieces: int, sizes: np.ndarray, main: int
) -> dict[str, float | int]:
    """The network's figures for the summary (``n`` nodes), also logged."""
    stats = {
        "nodes": n,
        "edges": len(edges.u),
        "length_km": float(edges.length_m.sum() / 1000),
        "parallel_edges_merged": edges.n_parallel,
        "coincident_nodes_merged": int(n_merged),
        "pieces": int(n_pieces),
        "main_piece_nodes": int(sizes[main]),
        "other_pieces_nodes": int(n - sizes[main]),
    }
    log.info(
        "network: %d nodes, %d edges, %.1f km; %d disconnected pieces outside the main one "
        "(%d nodes) are kept but not used for snapping",
        n,
        len(edges.u),
        stats["length_km"],
        n_pieces - 1,
        n - sizes[main],
    )
    return stats


def _project(geom: shapely.Geometry, crs: CRS) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=WGS84).to_crs(crs).iloc[0]


def _utm_crs(lonlat: np.ndarray) -> CRS:
    """The WGS-84 UTM zone of the points' bounding-box centre, as ``estimate_utm_crs``.

    Computed from the zone bands (6° of longitude; north or south of the equator) instead
    of a slow query of the PROJ database, except near a band's edge or the poles, where the
    database decides as before.
    """
    (minx, miny), (maxx, maxy) = lonlat.min(axis=0), lonlat.max(axis=0)
    lon, lat = np.mean([minx, maxx]), np.mean([miny, maxy])
    zone = int((lon + 180) // 6) + 1
    offset = (lon + 180) % 6
    if -80 < lat < 84 and abs(lat) > 1e-6 and 1e-6 < offset < 6 - 1e-6 and 1 <= zone <= 60:
        return CRS.from_epsg((32600 if lat > 0 else 32700) + zone)
    corners = gpd.GeoSeries(gpd.points_from_xy([minx, maxx], [miny, maxy]), crs=WGS84)
    return corners.estimate_utm_crs()


def _cell_key(cells: np.ndarray) -> np.ndarray:
    """One int64 per ``(x, y)`` integer pair, ordered as the pairs (row-wise unique in 1-D)."""
    if len(cells) == 0:
        return np.empty(0, np.int64)
    low = cells.min(axis=0)
    span = cells.max(axis=0) - low + 1
    if span[0] * float(span[1]) >= 2**62:  # a continent in millimetres: compare rows instead
        return np.unique(cells, axis=0, return_inverse=True)[1].ravel()
    return (cells[:, 0] - low[0]) * span[1] + (cells[:, 1] - low[1])


def _network_key(extract_key: str, settings: NetworkSettings) -> str:
    """Key of a network: its extract's key, the walkability settings and this module's code."""
    settings_json = settings.model_dump_json()
    return cache.make_key([__file__], kind="network", extract=extract_key, settings=settings_json)


def _load_network(key: str) -> Network | None:
    """The cached network of ``key``, or None."""

    def build(arrays: dict[str, np.ndarray], meta: dict) -> Network:
        return Network(
            crs=CRS.from_user_input(meta["crs"]),
            node_osm_id=arrays["node_osm_id"],
            node_xy=arrays["node_xy"],
            edge_u=arrays["edge_u"],
            edge_v=arrays["edge_v"],
            length_m=arrays["length_m"],
            edge_way_id=arrays["edge_way_id"],
            edge_highway=np.array(meta["highways"], dtype=str)[arrays["edge_highway"]],
            component=arrays["component"],
            main_component=meta["main_component"],
            read_area_m=shapely.from_wkb(arrays["area_m"].tobytes()),
            stats=meta["stats"],
            cache="hit",
        )

    return cache.load("network", key, build)


def _store_network(key: str, network: Network) -> None:
    """Cache a network under ``key``."""
    highways, codes = np.unique(network.edge_highway.astype(str), return_inverse=True)
    arrays = {
        "node_osm_id": network.node_osm_id,
        "node_xy": network.node_xy,
        "edge_u": network.edge_u,
        "edge_v": network.edge_v,
        "length_m": network.length_m,
        "edge_way_id": network.edge_way_id,
        "edge_highway": codes.astype(np.int32),
        "component": network.component,
        "area_m": cache.as_bytes(shapely.to_wkb(network.read_area_m)),
    }
    meta = {
        "crs": network.crs.srs or network.crs.to_wkt(),
        "highways": highways.tolist(),
        "main_component": int(network.main_component),
        "stats": network.stats,
    }
    cache.store("network", key, arrays, meta)
