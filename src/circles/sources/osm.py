"""Read an OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf) and clip it to the area read."""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from circles.errors import EmptyAreaError, InputError
from circles.messages import say
from circles.sources import extract_cache
from circles.sources.coords import read_vector
from circles.sources.extract import WGS84, OsmExtract, Ways

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz")
# the tags a walking network needs from a highway way
WAY_KEYS = (
    "highway",
    "foot",
    "access",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "area",
    "name",
)


# ways kept as lines beside the highways: railways and rivers mapped only as a line are where
# no one lives (circles.model.communities.uninhabited_areas picks the values)
LINE_KEYS = ("railway", "waterway")


def is_water(tags: osmium.osm.TagList | dict[str, str]) -> bool:
    """Whether an area is water (no site can be placed there)."""
    return (
        tags.get("natural") == "water"
        or tags.get("waterway") == "riverbank"
        or tags.get("landuse") in ("reservoir", "basin")
    )


def check_extract(path: str | Path) -> Path:
    """Check, cheaply, that a file is a readable OSM extract: its type, header and first node.

    Raises
    ------
    InputError
        Missing, of another type, unreadable, corrupt at its start, or without nodes.
    """
    path = Path(path)
    _check_path(path)
    with _readable(path):
        _header(path)
        if not _has_nodes(path):
            raise _no_nodes(path)
    return path


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn osmium's errors on a truncated or corrupt file into one clear ``InputError``."""
    try:
        yield
    except RuntimeError as exc:
        raise InputError(say("src_osm_unreadable", path=path, error=exc)) from None


def _no_nodes(path: Path) -> InputError:
    return InputError(say("src_osm_no_nodes", path=path))


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputError(say("src_osm_not_found", path=path))
    suffixes = say("src_sep").join(OSM_SUFFIXES)
    if not path.is_file():
        raise InputError(say("src_osm_directory", path=path, suffixes=suffixes))
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise InputError(say("src_osm_file_type", path=path, suffixes=suffixes))


def file_sha256(path: Path) -> str:
    """Content hash of a file (hex); read into one reused buffer, as ``hashlib.file_digest``."""
    digest, buffer = hashlib.sha256(), bytearray(1 << 18)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


def parse_area(area: str | Path | BaseGeometry | None) -> BaseGeometry | None:
    """Parse a study area: ``minlon,minlat,maxlon,maxlat``, a polygon file, or a geometry.

    Raises
    ------
    InputError
        For a malformed bounding box, or a missing, unreadable or polygon-less file.
    """
    if area is None or isinstance(area, BaseGeometry):
        return area
    text = str(area)
    if re.fullmatch(r"\s*[-+\d.eE]+\s*(,\s*[-+\d.eE]+\s*){3}", text):
        try:
            minlon, minlat, maxlon, maxlat = (float(v) for v in text.split(","))
        except ValueError:
            minlon = minlat = maxlon = maxlat = float("nan")
        if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
            raise InputError(say("src_bad_bbox", text=text))
        return box(minlon, minlat, maxlon, maxlat)
    path = Path(text)
    if not path.exists():
        raise InputError(say("src_area_neither", text=text))
    gdf = read_vector(path, say("src_role_area"))
    polygons = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise InputError(say("src_area_no_polygon", path=path))
    return shapely.make_valid(polygons.to_crs(WGS84).union_all())


# highway ways go through osmium's OPL writer (C++) and are parsed here in bulk
_OPL_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")
_OPL_NODE_SEPARATORS = bytes.maketrans(b"nxy,", b"    ")
_OPL_WAY = re.compile(rb"^w(-?\d+) dV t(\S*) T(\S*) N(\S*)$", re.MULTILINE)
# WAY_KEYS need no OPL escaping, so they can be matched as written
_OPL_WAY_TAG = re.compile(
    rb"(?:^|,)(" + "|".join(map(re.escape, WAY_KEYS)).encode() + rb")=([^,]*)"
)
_CHUNK_BYTES = 1 << 25  # OPL parsed 32 MiB at a time: bounded memory on big extracts
_FIXED = 10_000_000  # osmium's fixed-point coordinates: 1e-7 degree


@dataclass
class _Ways:
    """Highway ways and their node sequences (one entry per way node), in file order."""

    way_ids: np.ndarray
    way_tags: list[dict[str, str]]
    refs: np.ndarray  # OSM node id, -1 where the node is missing from the extract
    lon: np.ndarray  # NaN where the node is missing
    lat: np.ndarray
    way_index: np.ndarray  # index into way_ids of each node
    member_refs: np.ndarray  # nodes of any way (only read when bounds are estimated)
    max_timestamp: str


def _opl_text(raw: bytes) -> str:
    """Decode an OPL-escaped string (``%<hex code point>%`` for special characters)."""
    text = raw.decode("utf-8")
    if "%" not in text:
        return text
    return _OPL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _read(path: Path, feature_keys: frozenset[str], need_extent: bool) -> tuple[_Ways, _Features]:
    """One pass over the file (after osmium's pass over multipolygon relations).

    osmium's filters, in C++, keep highway ways (every way when ``need_extent``, for the
    estimated bounds), candidate feature nodes and areas. The ways go with their node
    locations to osmium's OPL writer, and their node lists are parsed in bulk afterwards;
    only the feature nodes and areas reach Python, one object at a time.
    """
    found = _Features(feature_keys, need_extent)
    area_keys = sorted(feature_keys | {"natural", "waterway", "landuse"})
    # with_areas() also stores every node location and adds them to the ways
    processor = osmium.FileProcessor(str(path)).with_areas(
        osmium.filter.KeyFilter(*area_keys)  # the multipolygon relations worth assembling
    )
    with tempfile.TemporaryDirectory(prefix="circles-") as tmp:
        opl = Path(tmp) / "ways.opl"
        writer = osmium.SimpleWriter(
            osmium.io.File(str(opl), "opl,locations_on_ways=true,add_metadata=timestamp")
        )
        try:
            for filt in (*_filters(feature_keys, need_extent, area_keys), writer):
                processor.with_filter(filt)  # the writer also gets the features: no matter
            lines = osmium.filter.KeyFilter(*LINE_KEYS)  # no highway reaches Python
            lines.enable_for(osmium.osm.WAY)
            processor.with_filter(lines)
            for obj in processor:
                if obj.is_area():
                    found.area(obj)
                elif obj.is_way():
                    found.line(obj)
                else:
                    found.node(obj)
        finally:
            writer.close()
        parts = []
        with opl.open("rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                chunk += handle.readline()  # up to the end of the line
                parts.append(_parse_opl_ways(chunk, keep_all=need_extent))
    return _merge_ways(parts), found


def _filters(feature_keys: frozenset[str], need_extent: bool, area_keys: list[str]) -> list:
    """The filters of ``_read``: feature nodes, highways (or all ways), areas, no relations."""
    if need_extent:  # every tagged node counts for the estimated bounds
        node_filter = osmium.filter.EmptyTagFilter()
    elif feature_keys:
        node_filter = osmium.filter.KeyFilter(*sorted(feature_keys))
    else:
        node_filter = osmium.filter.EntityFilter(osmium.osm.NOTHING)
    node_filter.enable_for(osmium.osm.NODE)
    if need_extent:  # the nodes of every way count for the estimated bounds
        way_filter = osmium.filter.EntityFilter(osmium.osm.WAY)
    else:
        way_filter = osmium.filter.KeyFilter("highway", *LINE_KEYS)
    way_filter.enable_for(osmium.osm.WAY)
    area_filter = osmium.filter.KeyFilter(*area_keys)
    area_filter.enable_for(osmium.osm.AREA)
    no_relations = osmium.filter.EntityFilter(osmium.osm.NODE | osmium.osm.WAY | osmium.osm.AREA)
    return [node_filter, way_filter, area_filter, no_relations]


def _merge_ways(parts: list[tuple]) -> _Ways:
    way_ids, way_tags, stamps = [], [], []
    refs, lon, lat, way_index, member_refs = [], [], [], [], []
    offset = 0
    for p_ids, p_tags, p_stamp, p_refs, p_lon, p_lat, p_index, p_members in parts:
        way_ids.append(p_ids)
        way_tags.extend(p_tags)
        stamps.append(p_stamp)
        refs.append(p_refs)
        lon.append(p_lon)
        lat.append(p_lat)
        way_index.append(p_index + offset)
        member_refs.append(p_members)
        offset += len(p_ids)

    def cat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.empty(0, dtype)

    return _Ways(
        way_ids=cat(way_ids, np.int64),
        way_tags=way_tags,
        refs=cat(refs, np.int64),
        lon=cat(lon, np.float64),
        lat=cat(lat, np.float64),
        way_index=cat(way_index, np.int64),
        member_refs=cat(member_refs, np.int64),
        max_timestamp=max(stamps, default=""),
    )


def _parse_opl_ways(chunk: bytes, keep_all: bool) -> tuple:
    """Parse OPL way lines ``w<id> dV t<time> T<k=v,...> N<n<id>x<lon>y<lat>,...>``."""
    rows = _OPL_WAY.findall(chunk)  # node and area lines are skipped
    if len(rows) != chunk.count(b"\nw") + chunk.startswith(b"w"):
        raise RuntimeError(say("src_opl_line"))
    ids, tags, is_highway, node_fields = [], [], [], []
    stamp = ""
    parsed: dict[bytes, dict[str, str]] = {}  # many ways share their tags
    for way_id, when, tag_field, node_field in rows:
        way_tags = parsed.get(tag_field)
        if way_tags is None:
            found = {k.decode(): _opl_text(v) for k, v in _OPL_WAY_TAG.findall(tag_field)}
            way_tags = parsed[tag_field] = {k: found[k] for k in WAY_KEYS if k in found}
        highway = "highway" in way_tags
        if highway:
            ids.append(int(way_id))
            tags.append(dict(way_tags))
            if when[:4] > b"1970":
                stamp = max(stamp, when.decode())
        is_highway.append(highway)
        node_fields.append(node_field)
    counts = np.fromiter((f.count(b",") + 1 if f else 0 for f in node_fields), np.int64)
    refs, x, y = _parse_node_list(b",".join(f for f in node_fields if f))
    if len(refs) != counts.sum():
        raise RuntimeError(say("src_opl_nodes"))
    # osmium.osm.Location.valid(): inside -180..180, -90..90 degrees
    valid = (np.abs(x) <= 180 * _FIXED) & (np.abs(y) <= 90 * _FIXED)
    lon, lat = x / _FIXED, y / _FIXED  # as osmium's Location.lon, .lat
    node_way = np.repeat(np.arange(len(counts)), counts)
    on_highway = np.asarray(is_highway, bool)[node_way] if len(node_way) else np.zeros(0, bool)
    way_number = np.cumsum(is_highway) - 1  # index among the highway ways of this chunk
    members = refs if keep_all else np.empty(0, np.int64)
    refs, lon, lat, valid = refs[on_highway], lon[on_highway], lat[on_highway], valid[on_highway]
    refs = np.where(valid, refs, -1)
    lon = np.where(valid, lon, np.nan)
    lat = np.where(valid, lat, np.nan)
    index = way_number[node_way[on_highway]] if len(way_number) else np.empty(0, np.int64)
    return (
        np.asarray(ids, dtype=np.int64),
        tags,
        stamp,
        refs,
        lon,
        lat,
        index.astype(np.int64),
        members,
    )


def _parse_node_list(text: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids and fixed-point coordinates (1e-7 degree) of an OPL ``n<id>x<lon>y<lat>,...``.

    Numbers are parsed as integers, which is exact and much faster than parsing floats: the
    decimal point is dropped and each coordinate scaled by the count of its decimals.
    """
    if not text:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    text = text.replace(b"xy", b"x999y999")  # a node missing from the extract: out of range
    raw = np.frombuffer(text, np.uint8)
    xs, ys = np.flatnonzero(raw == ord("x")), np.flatnonzero(raw == ord("y"))
    ends = np.append(np.flatnonzero(raw == ord(",")), len(raw))
    if not len(xs) == len(ys) == len(ends):
        raise RuntimeError(say("src_opl_nodes"))
    dots = np.flatnonzero(raw == ord("."))
    node = np.searchsorted(xs, dots) - 1
    in_lat = dots > ys[node]
    decimals = np.zeros((len(xs), 2), np.int64)
    decimals[node[~in_lat], 0] = ys[node[~in_lat]] - dots[~in_lat] - 1
    decimals[node[in_lat], 1] = ends[node[in_lat]] - dots[in_lat] - 1
    numbers = text.translate(_OPL_NODE_SEPARATORS, b".")
    values = np.fromstring(numbers, dtype=np.int64, sep=" ")
    if len(values) != 3 * len(xs):
        raise RuntimeError(say("src_opl_nodes"))
    values = values.reshape(-1, 3)
    fixed = values[:, 1:] * 10 ** (7 - decimals)
    return values[:, 0], fixed[:, 0], fixed[:, 1]


class _Features:
    """Tagged nodes, areas and railway or waterway lines that may be features (see ``_read``)."""

    def __init__(self, feature_keys: frozenset[str], need_extent: bool) -> None:
        self.feature_keys = feature_keys
        self.need_extent = need_extent
        self.loose: list[tuple[int, float, float]] = []  # tagged nodes, for estimated bounds
        self.osm_type: list[str] = []
        self.osm_id: list[int] = []
        self.names: list[str | None] = []
        self.tags: list[dict[str, str]] = []
        self.geometry: list[object] = []  # (lon, lat) for nodes, WKB for areas
        self.newest: datetime | None = None
        self.wkb = osmium.geom.WKBFactory()

    def wanted(self, tags: dict[str, str]) -> bool:
        return any(k in self.feature_keys for k in tags)

    def node(self, n: osmium.osm.Node) -> None:
        loc = n.location
        if not loc.valid():
            return
        tags = dict(n.tags)
        if self.need_extent:
            self.loose.append((n.id, loc.lon, loc.lat))
            if not self.wanted(tags):
                return
        self._add("node", n.id, tags, (loc.lon, loc.lat))
        self._stamp(n)

    def area(self, a: osmium.osm.Area) -> None:
        tags = dict(a.tags)
        if not (self.wanted(tags) or is_water(tags)):
            return
        try:
            geom = bytes.fromhex(self.wkb.create_multipolygon(a))  # hex is slow to parse
        except RuntimeError:  # broken multipolygon: osmium could not assemble rings
            return
        self._add("way" if a.from_way() else "relation", a.orig_id(), tags, geom)
        self._stamp(a)

    def line(self, w: osmium.osm.Way) -> None:
        """A railway or waterway line (an open way; closed ones also come as areas)."""
        if w.is_closed():
            return
        try:
            geom = bytes.fromhex(self.wkb.create_linestring(w))
        except (RuntimeError, osmium.InvalidLocationError):  # a node outside the extract
            return
        self._add("way", w.id, dict(w.tags), geom)

    def _add(self, osm_type: str, osm_id: int, tags: dict[str, str], geom: object) -> None:
        self.osm_type.append(osm_type)
        self.osm_id.append(osm_id)
        self.names.append(tags.get("name"))
        self.tags.append(tags)
        self.geometry.append(geom)

    def _stamp(self, obj: osmium.osm.OSMObject) -> None:
        stamp = obj.timestamp
        if stamp.year > 1970 and (self.newest is None or stamp > self.newest):
            self.newest = stamp

    @property
    def max_timestamp(self) -> str:
        """The newest timestamp, ISO format ("" if none)."""
        return "" if self.newest is None else self.newest.isoformat()

    def frame(self) -> gpd.GeoDataFrame:
        """The features as a WGS-84 GeoDataFrame (geometries built in bulk)."""
        geoms = np.empty(len(self.geometry), dtype=object)
        nodes = [i for i, kind in enumerate(self.osm_type) if kind == "node"]
        areas = [i for i, kind in enumerate(self.osm_type) if kind != "node"]
        if nodes:
            geoms[nodes] = shapely.points(np.array([self.geometry[i] for i in nodes], float))
        if areas:
            geoms[areas] = shapely.from_wkb([self.geometry[i] for i in areas])
        rows = zip(self.osm_type, self.osm_id, self.names, self.tags, geoms, strict=True)
        return gpd.GeoDataFrame(
            list(rows), columns=["osm_type", "osm_id", "name", "tags", "geometry"], crs=WGS84
        )


def _header(path: Path) -> tuple[Polygon | None, str]:
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        header = reader.header()
        bbox = header.box()
        bounds = None
        if bbox.valid():
            bl, tr = bbox.bottom_left, bbox.top_right
            if bl.lon < tr.lon and bl.lat < tr.lat:
                bounds = box(bl.lon, bl.lat, tr.lon, tr.lat)
        stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or ""
    finally:
        reader.close()
    return bounds, stamp


def read_extract(
    path: str | Path,
    feature_keys: set[str] | frozenset[str],
    area: str | Path | BaseGeometry | None = None,
    cache: bool = False,
) -> OsmExtract:
    """Read an OSM extract and clip it to the study area.

    Highway ways and their node locations are read in C++ (osmium writes them as OPL text
    that numpy parses); only candidate features reach Python, one object at a time.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    feature_keys
        Tag keys that make a node or area worth keeping as a feature (facility selectors,
        ``name``, ``building``, ``landuse``).
    area
        The area to read (the study area with its buffer): a bounding box string, a polygon
        file or a geometry; ``None`` uses the extract's data bounds.
    cache
        Reuse the result of an earlier call on the same file (name and content), area and
        keys, from ``circles.sources.cache``; store it there when there is none.

    Returns
    -------
    OsmExtract

    Raises
    ------
    InputError
        Missing, unreadable or corrupt file.
    EmptyAreaError
        The area does not overlap the extract.
    """
    path = Path(path)
    _check_path(path)
    read_area = parse_area(area)
    if not cache:
        return _read_extract(path, feature_keys, read_area, file_sha256(path))
    return _read_cached(path, feature_keys, read_area)


def _read_cached(
    path: Path, feature_keys: set[str] | frozenset[str], read_area: BaseGeometry | None
) -> OsmExtract:
    """``read_extract`` through ``circles.cache``: load the earlier result, else read and store."""
    sha256 = file_sha256(path)
    key = extract_cache.extract_key(path.name, sha256, read_area, feature_keys)

    def reread_ways() -> Ways:  # only if the cached ways are gone when a network is built
        _check_path(path)
        if file_sha256(path) != sha256:  # else a network of the new file under the old key
            raise InputError(say("src_file_changed", path=path))
        return _read_extract(path, feature_keys, read_area, sha256).ways

    extract = extract_cache.load_extract(key, path, reread_ways)
    if extract is None:
        extract = _read_extract(path, feature_keys, read_area, sha256)
        extract_cache.store_extract(key, extract)
        extract.cache, extract.cache_key = "miss", key
    return extract


def _read_extract(
    path: Path, feature_keys: Iterable[str], read_area: BaseGeometry | None, sha256: str
) -> OsmExtract:
    """Read the file and clip its ways and features to the study area (default its bounds)."""
    log.info("reading %s", path.name)
    header_bounds, header_stamp, ways, found = _read_checked(path, frozenset(feature_keys))
    features = found.frame()
    bounds = header_bounds or _estimated_bounds(path, ways, found.loose, features)
    read_area, warnings = _read_area(read_area, bounds, path)
    segments, segment_way, node_ids, node_lonlat = _clip_segments(ways, read_area)
    if len(features):
        keep = features.intersects(read_area)
        features = features[keep].reset_index(drop=True)
    return OsmExtract(
        path=path,
        sha256=sha256,
        bounds=bounds,
        read_area=read_area,
        features=features,
        _ways=Ways(ways.way_ids, ways.way_tags, segments, segment_way, node_ids, node_lonlat),
        data_date=(header_stamp or max(ways.max_timestamp, found.max_timestamp))[:10],
        warnings=warnings,
    )


def _read_checked(
    path: Path, feature_keys: frozenset[str]
) -> tuple[Polygon | None, str, _Ways, _Features]:
    """Header box and timestamp, ways and features of the file (see ``_read``).

    Raises
    ------
    InputError
        A truncated or corrupt file, or one without any node.
    """
    with _readable(path):
        header_bounds, header_stamp = _header(path)
        ways, found = _read(path, feature_keys, need_extent=header_bounds is None)
        has_nodes = len(found.osm_id) > 0 or (ways.refs >= 0).any() or _has_nodes(path)
    if not has_nodes:
        raise _no_nodes(path)
    return header_bounds, header_stamp, ways, found


def _read_area(
    read_area: BaseGeometry | None, bounds: Polygon, path: Path
) -> tuple[BaseGeometry, list[str]]:
    """The area to read (default ``bounds``) clipped to ``bounds``.

    Whether the study area itself lies partly outside the extract is the pipeline's warning:
    the area read includes the buffer, which may reach past the extract without harm.

    Raises
    ------
    EmptyAreaError
        The study area lies outside the extract.
    """
    if read_area is None:
        return bounds, []
    overlap = read_area.intersection(bounds)
    if overlap.is_empty or overlap.area == 0:
        msg = say(
            "src_area_outside",
            area=tuple(round(v, 4) for v in read_area.bounds),
            file=path.name,
            bounds=tuple(round(v, 4) for v in bounds.bounds),
        )
        raise EmptyAreaError(msg)
    return (overlap, []) if overlap.area < 0.99 * read_area.area else (read_area, [])


def _has_nodes(path: Path) -> bool:
    """Whether the file holds any node (reads only up to the first one)."""
    return next(iter(osmium.FileProcessor(str(path), osmium.osm.NODE)), None) is not None


def _node_extent(path: Path) -> Polygon:
    """The extent of all nodes with a valid location (one Python call per node: rare)."""
    lon_min = lat_min = np.inf
    lon_max = lat_max = -np.inf
    for n in osmium.FileProcessor(str(path), osmium.osm.NODE):
        loc = n.location
        if loc.valid():
            lon, lat = loc.lon, loc.lat
            lon_min, lon_max = min(lon_min, lon), max(lon_max, lon)
            lat_min, lat_max = min(lat_min, lat), max(lat_max, lat)
    return box(lon_min, lat_min, lon_max, lat_max)


def _estimated_bounds(
    path: Path, ways: _Ways, loose: list[tuple[int, float, float]], features: gpd.GeoDataFrame
) -> Polygon:
    """Data bounds of an extract without a header box.

    Exports from openstreetmap.org or Overpass hold whole ways that run far past the box,
    so the extent of all nodes overstates it. Tagged nodes that belong to no way, and
    buildings, are only exported when inside the box: their extent is the estimate.
    """
    points = []
    if loose:
        ids, lon, lat = (np.asarray(v) for v in zip(*loose, strict=True))
        off_way = ~np.isin(ids, ways.member_refs)
        points.append(np.column_stack([lon[off_way], lat[off_way]]))
    buildings = features.geometry[features["tags"].map(lambda tags: "building" in tags)]
    if len(buildings):
        points.append(shapely.get_coordinates(shapely.centroid(buildings.to_numpy())))
    coords = np.concatenate(points) if points else np.empty((0, 2))
    if len(coords) < 10:
        return _node_extent(path)
    (minlon, minlat), (maxlon, maxlat) = coords.min(axis=0), coords.max(axis=0)
    return box(minlon, minlat, maxlon, maxlat)


def _clip_segments(
    ways: _Ways, area: BaseGeometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive way-node pairs with at least one end inside the area (vectorised)."""
    refs, lon, lat, way = ways.refs, ways.lon, ways.lat, ways.way_index
    if len(refs) < 2:
        return (
            np.empty((0, 2), np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty((0, 2)),
        )
    located = refs >= 0
    inside = located & shapely.contains_xy(area, lon, lat)
    same_way = way[1:] == way[:-1]
    valid = same_way & located[1:] & located[:-1] & (refs[1:] != refs[:-1])
    keep = valid & (inside[1:] | inside[:-1])
    first = np.flatnonzero(keep)
    segments = np.column_stack([refs[first], refs[first + 1]])
    used = np.concatenate([first, first + 1])
    node_ids, pos = np.unique(refs[used], return_index=True)
    node_lonlat = np.column_stack([lon[used][pos], lat[used][pos]])
    return segments, way[first], node_ids, node_lonlat
