"""Disk cache of parsed OSM extracts and walking networks, keyed by file content and settings."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import shapely

from circles._version import __version__

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.model.network import Network
    from circles.sources.osm import OsmExtract, Ways
    from circles.standards import NetworkSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

FORMAT = 2  # bump when what is stored, or how, changes


def cache_dir() -> Path:
    """``$CIRCLES_CACHE_DIR``, else the platform's user cache directory (never an input folder).

    Entries are not evicted: delete the directory to clear the cache.
    """
    if os.environ.get("CIRCLES_CACHE_DIR"):
        return Path(os.environ["CIRCLES_CACHE_DIR"]).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(local) / "circles" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "circles"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "circles"


def extract_key(
    name: str, sha256: str, area: shapely.Geometry | None, feature_keys: Iterable[str]
) -> str:
    """Key of a parsed extract: file name and content, study area, feature tag keys."""
    area_wkb = None if area is None else shapely.to_wkb(area, hex=True)
    return _key(kind="extract", name=name, sha256=sha256, area=area_wkb, keys=sorted(feature_keys))


def network_key(extract_key: str, settings: NetworkSettings) -> str:
    """Key of a network: its extract's key and the walkability settings."""
    return _key(kind="network", extract=extract_key, settings=settings.model_dump_json())


def _key(**parts: object) -> str:
    parts |= {"format": FORMAT, "circles": __version__, "code": _code_digest()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@functools.cache
def _code_digest() -> str:
    """Hash of the code that makes the cached results.

    Results of older code must not be served after a change (a release, or an edit in a
    development install).
    """
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("sources/osm.py", "model/network.py", "sources/cache.py"):
        try:
            digest.update((here.parent / name).read_bytes())
        except OSError:  # not installed as files: the version alone tells
            digest.update(name.encode())
    return digest.hexdigest()


def load_extract(key: str, path: Path, reread: Callable[[], Ways]) -> OsmExtract | None:
    """The cached extract of ``key`` (read from ``path``), or None.

    Its highway ways are a separate entry, loaded when first used (a cached network needs
    none); ``reread()`` reads them from the file again (and caches them) if that entry is
    gone by then.
    """
    from circles.sources.osm import WGS84, OsmExtract

    def build(arrays: dict[str, np.ndarray], meta: dict) -> OsmExtract:
        return OsmExtract(
            path=path,
            sha256=meta["sha256"],
            bounds=shapely.from_wkb(arrays["bounds"].tobytes()),
            area=shapely.from_wkb(arrays["area"].tobytes()),
            features=_features(arrays, meta, WGS84),
            data_date=meta["data_date"],
            _ways=lambda: _load("ways", key, build_ways) or _store_ways(key, reread()),
            warnings=meta["warnings"],
            cache="hit",
            cache_key=key,
        )

    def build_ways(arrays: dict[str, np.ndarray], meta: dict) -> Ways:
        from circles.sources.osm import Ways

        table = meta["tag_table"]  # ways share their tag dicts (read-only)
        return Ways(
            way_ids=arrays["way_ids"],
            tags=[table[c] for c in arrays["way_tag"].tolist()],
            segments=arrays["segments"],
            segment_way=arrays["segment_way"],
            node_ids=arrays["node_ids"],
            node_lonlat=arrays["node_lonlat"],
        )

    return _load("extract", key, build)


def store_extract(key: str, extract: OsmExtract) -> None:
    """Cache a parsed extract under ``key``: its ways, then the rest."""
    _store_ways(key, extract.ways)
    features = extract.features
    arrays = {
        "bounds": _bytes(shapely.to_wkb(extract.bounds)),
        "area": _bytes(shapely.to_wkb(extract.area)),
        "feature_osm_id": features["osm_id"].to_numpy(np.int64),
        **_geometry_arrays(features.geometry.to_numpy()),
    }
    meta = {
        "sha256": extract.sha256,
        "data_date": extract.data_date,
        "warnings": extract.warnings,
        "feature_osm_type": features["osm_type"].tolist(),
        "feature_tags": features["tags"].tolist(),
        "feature_dtypes": {c: str(t) for c, t in features.dtypes.items() if c != "geometry"},
    }
    _store("extract", key, arrays, meta)


def _store_ways(key: str, ways: Ways) -> Ways:
    table, codes = _shared(ways.tags)  # most ways have the tags of many others
    arrays = {
        "way_ids": ways.way_ids,
        "way_tag": codes,
        "segments": ways.segments,
        "segment_way": ways.segment_way,
        "node_ids": ways.node_ids,
        "node_lonlat": ways.node_lonlat,
    }
    _store("ways", key, arrays, {"tag_table": table})
    return ways


def load_network(key: str) -> Network | None:
    """The cached network of ``key``, or None."""
    from pyproj import CRS

    from circles.model.network import Network

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
            area_m=shapely.from_wkb(arrays["area_m"].tobytes()),
            stats=meta["stats"],
            cache="hit",
        )

    return _load("network", key, build)


def store_network(key: str, network: Network) -> None:
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
        "area_m": _bytes(shapely.to_wkb(network.area_m)),
    }
    meta = {
        "crs": network.crs.srs or network.crs.to_wkt(),
        "highways": highways.tolist(),
        "main_component": int(network.main_component),
        "stats": network.stats,
    }
    _store("network", key, arrays, meta)


def _shared(dicts: list[dict[str, str]]) -> tuple[list[dict[str, str]], np.ndarray]:
    """The distinct dicts, and the index of each dict among them."""
    table: list[dict[str, str]] = []
    seen: dict[tuple, int] = {}
    codes = np.empty(len(dicts), np.int32)
    for i, tags in enumerate(dicts):
        key = tuple(tags.items())
        code = seen.get(key)
        if code is None:
            code = seen[key] = len(table)
            table.append(tags)
        codes[i] = code
    return table, codes


def _geometry_arrays(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Geometries as arrays.

    Multipolygons (most features) as coordinates and offsets, which load much faster than
    WKB; other geometries (points) as WKB.
    """
    ragged = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON
    ragged &= ~shapely.is_empty(geoms)
    wkb = shapely.to_wkb(geoms[~ragged])
    arrays = {
        "geom_ragged": ragged,
        "geom_wkb": _bytes(b"".join(wkb)),
        "geom_wkb_end": np.cumsum([len(g) for g in wkb], dtype=np.int64),
    }
    if ragged.any():
        _, coords, offsets = shapely.to_ragged_array(geoms[ragged])
        arrays["geom_coords"] = coords
        arrays |= {f"geom_offsets{i}": o for i, o in enumerate(offsets)}
    return arrays


def _geometries(arrays: dict[str, np.ndarray]) -> np.ndarray:
    ragged = arrays["geom_ragged"]
    geoms = np.empty(len(ragged), dtype=object)
    blob, ends = arrays["geom_wkb"].tobytes(), arrays["geom_wkb_end"]
    starts = np.concatenate([[0], ends])[:-1].astype(np.int64)
    geoms[~ragged] = shapely.from_wkb([blob[a:b] for a, b in zip(starts, ends, strict=True)])
    if ragged.any():
        offsets = tuple(arrays[f"geom_offsets{i}"] for i in range(3))
        geoms[ragged] = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON, arrays["geom_coords"], offsets
        )
    return geoms


def _bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


def _features(arrays: dict[str, np.ndarray], meta: dict, crs: str) -> gpd.GeoDataFrame:
    """The features table, rebuilt as ``osm.read_extract`` builds it."""
    import geopandas as gpd
    import pandas as pd

    geoms = _geometries(arrays)
    tags = meta["feature_tags"]
    columns = {
        "osm_type": meta["feature_osm_type"],
        "osm_id": arrays["feature_osm_id"],
        "name": [t.get("name") for t in tags],
        "tags": pd.Series(tags, dtype=object),
    }
    features = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs=crs))
    for column, dtype in meta["feature_dtypes"].items():
        if str(features[column].dtype) != dtype:
            features[column] = features[column].astype(dtype)
    return features


def _path(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key}.npz"


def _load(kind: str, key: str, build: Callable[[dict[str, np.ndarray], dict], T]) -> T | None:
    """``build(arrays, metadata)`` of an entry; an unreadable entry is deleted, to be rebuilt."""
    path = _path(kind, key)
    if not path.exists():
        log.info("%s cache: miss (%s)", kind, path.name)
        return None
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}  # reads all: checks zip CRCs
        meta = json.loads(arrays.pop("meta").tobytes())
        if (meta.get("kind"), meta.get("key"), meta.get("format")) != (kind, key, FORMAT):
            msg = "entry of another key or format"
            raise ValueError(msg)
        result = build(arrays, meta)
    except Exception as exc:  # a bad entry is rebuilt, never fatal
        log.warning("%s cache: unreadable entry %s (%s); rebuilding it", kind, path, exc)
        path.unlink(missing_ok=True)
        return None
    log.info("%s cache: hit (%s)", kind, path.name)
    return result


def _store(kind: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write an entry: one uncompressed ``.npz`` (arrays, JSON metadata; no pickles).

    Written to a temporary file renamed into place, so a reader never sees a partial entry.
    A failure (full disk, read-only directory) is logged and the run goes on uncached.
    """
    path = _path(kind, key)
    meta = meta | {"kind": kind, "key": key, "format": FORMAT}
    try:
        text = json.dumps(meta, ensure_ascii=False, default=_json_default).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, meta=_bytes(text), **arrays)
            Path(tmp).replace(path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except (OSError, TypeError, ValueError) as exc:
        log.warning("%s cache: cannot write %s (%s)", kind, path, exc)
        return
    log.info("%s cache: stored %s", kind, path)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    msg = f"cannot store {type(value).__name__} in the cache"
    raise TypeError(msg)
