"""Read an OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf) and clip it to the study area."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from circles.coords import read_vector
from circles.errors import EmptyAreaError, InputError

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz")
WGS84 = "EPSG:4326"
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


@dataclass
class OsmExtract:
    """What circles needs from an extract, already clipped to the study area.

    Attributes
    ----------
    path, sha256
        The file read and its content hash.
    bounds
        The extract's data bounds (header box, else the extent of its nodes), WGS-84.
    area
        The study area, WGS-84.
    way_ids, way_tags
        Highway ways and their walking-relevant tags (position i describes way i).
    segments
        ``(n, 2)`` int64 OSM node ids of consecutive way nodes, with ``segment_way`` the way
        index of each segment; only segments touching the study area are kept.
    node_ids, node_lonlat
        Sorted OSM node ids used by ``segments`` and their coordinates.
    features
        Tagged nodes and areas (closed ways, multipolygons) that may be facilities,
        buildings or residential land: columns ``osm_type``, ``osm_id``, ``name``,
        ``tags`` (dict) and ``geometry`` (WGS-84), clipped to the study area.
    data_date
        Date of the data (header timestamp, else the newest object), ISO format.
    """

    path: Path
    sha256: str
    bounds: Polygon
    area: BaseGeometry
    way_ids: np.ndarray
    way_tags: list[dict[str, str]]
    segments: np.ndarray
    segment_way: np.ndarray
    node_ids: np.ndarray
    node_lonlat: np.ndarray
    features: gpd.GeoDataFrame
    data_date: str
    warnings: list[str] = field(default_factory=list)


def is_water(tags: osmium.osm.TagList | dict[str, str]) -> bool:
    """Whether an area is water (no site can be placed there)."""
    return (
        tags.get("natural") == "water"
        or tags.get("waterway") == "riverbank"
        or tags.get("landuse") in ("reservoir", "basin")
    )


def _check_path(path: Path) -> None:
    if not path.exists():
        msg = f"{path}: OSM file not found. Check the path given to --osm."
        raise InputError(msg)
    if not path.is_file():
        msg = f"{path}: is a directory, expected an OSM file ({', '.join(OSM_SUFFIXES)})."
        raise InputError(msg)
    if not path.name.lower().endswith(OSM_SUFFIXES):
        msg = (
            f"{path}: unsupported file type; expected one of {', '.join(OSM_SUFFIXES)}. "
            "Convert it with osmium-tool or export .osm from openstreetmap.org."
        )
        raise InputError(msg)


def file_sha256(path: Path) -> str:
    """Content hash of a file (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
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
    if re.fullmatch(r"\s*-?[\d.]+\s*(,\s*-?[\d.]+\s*){3}", text):
        minlon, minlat, maxlon, maxlat = (float(v) for v in text.split(","))
        if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
            msg = (
                f"--area {text!r}: expected minlon,minlat,maxlon,maxlat in degrees with "
                "min < max (e.g. 104.05,30.66,104.10,30.70)."
            )
            raise InputError(msg)
        return box(minlon, minlat, maxlon, maxlat)
    path = Path(text)
    if not path.exists():
        msg = (
            f"--area {text!r}: neither a bounding box (minlon,minlat,maxlon,maxlat) "
            "nor an existing polygon file."
        )
        raise InputError(msg)
    gdf = read_vector(path, "area")
    polygons = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        msg = f"{path}: the area file holds no polygon; expected the study area's boundary."
        raise InputError(msg)
    return shapely.make_valid(polygons.to_crs(WGS84).union_all())


class _Collector:
    """Accumulates ways, their node locations and tagged features in one pass."""

    def __init__(self, feature_keys: frozenset[str], need_extent: bool) -> None:
        self.feature_keys = feature_keys
        self.need_extent = need_extent
        self.n_nodes = 0
        self.loose: list[tuple[int, float, float]] = []  # tagged nodes, for estimated bounds
        self.member_refs: list[int] = []  # nodes of any way, for estimated bounds
        self.way_ids: list[int] = []
        self.way_tags: list[dict[str, str]] = []
        self.refs: list[int] = []
        self.lons: list[float] = []
        self.lats: list[float] = []
        self.way_index: list[int] = []
        self.rows: list[tuple[str, int, str | None, dict[str, str], object]] = []
        self.max_timestamp = ""
        self.min_lon = self.min_lat = np.inf
        self.max_lon = self.max_lat = -np.inf
        self.wkb = osmium.geom.WKBFactory()

    def wanted(self, tags: osmium.osm.TagList) -> bool:
        return any(tag.k in self.feature_keys for tag in tags)

    def node(self, n: osmium.osm.Node) -> None:
        self.n_nodes += 1
        loc = n.location
        if self.need_extent and loc.valid():
            lon, lat = loc.lon, loc.lat
            self.min_lon = min(self.min_lon, lon)
            self.max_lon = max(self.max_lon, lon)
            self.min_lat = min(self.min_lat, lat)
            self.max_lat = max(self.max_lat, lat)
            if n.tags:
                self.loose.append((n.id, lon, lat))
        if n.tags and self.wanted(n.tags) and loc.valid():
            tags = dict(n.tags)
            self.rows.append(
                ("node", n.id, tags.get("name"), tags, shapely.Point(loc.lon, loc.lat))
            )
            self._stamp(n)

    def way(self, w: osmium.osm.Way) -> None:
        if self.need_extent:
            self.member_refs.extend(n.ref for n in w.nodes)
        highway = w.tags.get("highway")
        if highway is None:
            return
        index = len(self.way_ids)
        self.way_ids.append(w.id)
        self.way_tags.append({k: w.tags[k] for k in WAY_KEYS if k in w.tags})
        for node in w.nodes:
            loc = node.location
            if loc.valid():
                self.refs.append(node.ref)
                self.lons.append(loc.lon)
                self.lats.append(loc.lat)
                self.way_index.append(index)
            else:  # a node missing from the extract breaks the way here
                self.refs.append(-1)
                self.lons.append(np.nan)
                self.lats.append(np.nan)
                self.way_index.append(index)
        self._stamp(w)

    def area(self, a: osmium.osm.Area) -> None:
        if not (self.wanted(a.tags) or is_water(a.tags)):
            return
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(a))
        except RuntimeError:  # broken multipolygon: osmium could not assemble rings
            return
        tags = dict(a.tags)
        osm_type = "way" if a.from_way() else "relation"
        self.rows.append((osm_type, a.orig_id(), tags.get("name"), tags, geom))
        self._stamp(a)

    def _stamp(self, obj: osmium.osm.OSMObject) -> None:
        stamp = obj.timestamp
        if stamp.year > 1970:
            iso = stamp.isoformat()
            self.max_timestamp = max(self.max_timestamp, iso)


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
) -> OsmExtract:
    """Read an OSM extract and clip it to the study area.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    feature_keys
        Tag keys that make a node or area worth keeping as a feature (facility selectors,
        ``name``, ``building``, ``landuse``).
    area
        Study area: a bounding box string, a polygon file or a geometry; ``None`` uses the
        extract's data bounds.

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
    study_area = parse_area(area)
    try:
        header_bounds, header_stamp = _header(path)
        collector = _Collector(frozenset(feature_keys), need_extent=header_bounds is None)
        processor = osmium.FileProcessor(str(path)).with_areas()
        objects = tqdm(
            processor,
            desc=f"reading {path.name}",
            unit=" objects",
            disable=None,
            unit_scale=True,
            leave=False,
        )
        for obj in objects:
            if obj.is_node():
                collector.node(obj)
            elif obj.is_way():
                collector.way(obj)
            elif obj.is_area():
                collector.area(obj)
    except RuntimeError as exc:
        msg = (
            f"{path}: cannot read this OSM file ({exc}). It may be truncated or corrupt; "
            "download or export it again."
        )
        raise InputError(msg) from None
    if collector.n_nodes == 0:
        msg = f"{path}: the file holds no OSM nodes. Is it an empty export?"
        raise InputError(msg)
    bounds = header_bounds or _estimated_bounds(collector)
    warnings: list[str] = []
    if study_area is None:
        study_area = bounds
    else:
        overlap = study_area.intersection(bounds)
        if overlap.is_empty or overlap.area == 0:
            b = bounds.bounds
            msg = (
                f"the study area {tuple(round(v, 4) for v in study_area.bounds)} lies outside "
                f"the extract {path.name}, whose data covers {tuple(round(v, 4) for v in b)} "
                "(minlon, minlat, maxlon, maxlat). Give an area inside it."
            )
            raise EmptyAreaError(msg)
        if overlap.area < 0.99 * study_area.area:
            share = overlap.area / study_area.area
            warnings.append(
                f"only {share:.0%} of the study area lies inside the extract {path.name}; "
                "results cover that part only."
            )
            study_area = overlap

    segments, segment_way, node_ids, node_lonlat = _clip_segments(collector, study_area)
    features = gpd.GeoDataFrame(
        collector.rows, columns=["osm_type", "osm_id", "name", "tags", "geometry"], crs=WGS84
    )
    if len(features):
        keep = features.intersects(study_area)
        features = features[keep].reset_index(drop=True)
    return OsmExtract(
        path=path,
        sha256=file_sha256(path),
        bounds=bounds,
        area=study_area,
        way_ids=np.asarray(collector.way_ids, dtype=np.int64),
        way_tags=collector.way_tags,
        segments=segments,
        segment_way=segment_way,
        node_ids=node_ids,
        node_lonlat=node_lonlat,
        features=features,
        data_date=(header_stamp or collector.max_timestamp)[:10],
        warnings=warnings,
    )


def _estimated_bounds(c: _Collector) -> Polygon:
    """Data bounds of an extract without a header box.

    Exports from openstreetmap.org or Overpass hold whole ways that run far past the box,
    so the extent of all nodes overstates it. Tagged nodes that belong to no way, and
    buildings, are only exported when inside the box: their extent is the estimate.
    """
    points = []
    if c.loose:
        ids, lon, lat = (np.asarray(v) for v in zip(*c.loose, strict=True))
        off_way = ~np.isin(ids, np.asarray(c.member_refs, dtype=np.int64))
        points.append(np.column_stack([lon[off_way], lat[off_way]]))
    buildings = [g for _, _, _, tags, g in c.rows if "building" in tags]
    if buildings:
        points.append(shapely.get_coordinates(shapely.centroid(buildings)))
    coords = np.concatenate(points) if points else np.empty((0, 2))
    if len(coords) < 10:
        return box(c.min_lon, c.min_lat, c.max_lon, c.max_lat)
    (minlon, minlat), (maxlon, maxlat) = coords.min(axis=0), coords.max(axis=0)
    return box(minlon, minlat, maxlon, maxlat)


def _clip_segments(
    c: _Collector, area: BaseGeometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive way-node pairs with at least one end inside the area (vectorised)."""
    refs = np.asarray(c.refs, dtype=np.int64)
    lon = np.asarray(c.lons, dtype=np.float64)
    lat = np.asarray(c.lats, dtype=np.float64)
    way = np.asarray(c.way_index, dtype=np.int64)
    if len(refs) < 2:
        return (
            np.empty((0, 2), np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty((0, 2)),
        )
    inside = shapely.contains_xy(area, lon, lat) if np.isfinite(lon).any() else np.zeros(0, bool)
    inside &= refs >= 0
    same_way = way[1:] == way[:-1]
    valid = same_way & (refs[1:] >= 0) & (refs[:-1] >= 0) & (refs[1:] != refs[:-1])
    keep = valid & (inside[1:] | inside[:-1])
    first = np.flatnonzero(keep)
    segments = np.column_stack([refs[first], refs[first + 1]])
    used = np.concatenate([first, first + 1])
    node_ids, pos = np.unique(refs[used], return_index=True)
    node_lonlat = np.column_stack([lon[used][pos], lat[used][pos]])
    return segments, way[first], node_ids, node_lonlat
