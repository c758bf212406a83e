"""A disk cache of arrays keyed by content and settings: entries are built and read by the
modules whose results they hold (the parsed extract, the walking network)."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import shapely

from circles._version import __version__
from circles.errors import InputError
from circles.messages import CATALOGUE, say

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


def make_key(code: Sequence[str | Path], **parts: object) -> str:
    """Key of an entry: its parts, the cache format, the circles version and the code.

    ``code`` lists the source files whose results the entry holds: results of older code are
    never served after a change (a release, or an edit in a development install).
    """
    parts |= {"format": FORMAT, "circles": __version__, "code": _code_digest(tuple(map(str, code)))}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@functools.cache
def _code_digest(files: tuple[str, ...]) -> str:
    """Hash of source files (of their names where they cannot be read)."""
    digest = hashlib.sha256()
    for name in (*files, __file__):
        try:
            digest.update(Path(name).read_bytes())
        except OSError:  # not installed as files: the version alone tells
            digest.update(Path(name).name.encode())
    return digest.hexdigest()


def shared_dicts(dicts: list[dict[str, str]]) -> tuple[list[dict[str, str]], np.ndarray]:
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


def geometry_arrays(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Geometries as arrays.

    Multipolygons (most features) as coordinates and offsets, which load much faster than
    WKB; other geometries (points) as WKB.
    """
    ragged = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON
    ragged &= ~shapely.is_empty(geoms)
    wkb = shapely.to_wkb(geoms[~ragged])
    arrays = {
        "geom_ragged": ragged,
        "geom_wkb": as_bytes(b"".join(wkb)),
        "geom_wkb_end": np.cumsum([len(g) for g in wkb], dtype=np.int64),
    }
    if ragged.any():
        _, coords, offsets = shapely.to_ragged_array(geoms[ragged])
        arrays["geom_coords"] = coords
        arrays |= {f"geom_offsets{i}": o for i, o in enumerate(offsets)}
    return arrays


def geometries(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The geometries stored by ``geometry_arrays``."""
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


def as_bytes(data: bytes) -> np.ndarray:
    """Bytes as a uint8 array, as ``np.savez`` stores them."""
    return np.frombuffer(data, dtype=np.uint8)


def _path(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key}.npz"


def _refuse_folder(path: Path) -> None:
    """A folder where a cache entry belongs is not ours to delete: say so."""
    if path.is_dir():
        raise InputError(say("src_cache_folder", path=path))


def load(kind: str, key: str, build: Callable[[dict[str, np.ndarray], dict], T]) -> T | None:
    """``build(arrays, metadata)`` of an entry; an unreadable entry is deleted, to be rebuilt."""
    path = _path(kind, key)
    _refuse_folder(path)
    if not path.exists():
        log.info("%s cache: miss (%s)", kind, path.name)
        return None
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}  # reads all: checks zip CRCs
        meta = json.loads(arrays.pop("meta").tobytes())
        if (meta.get("kind"), meta.get("key"), meta.get("format")) != (kind, key, FORMAT):
            raise ValueError(say("src_cache_other_entry"))
        result = build(arrays, meta)
    except Exception as exc:  # a bad entry is rebuilt, never fatal
        log.warning(say("src_cache_unreadable", kind=_kind(kind), path=path, error=exc))
        path.unlink(missing_ok=True)
        return None
    log.info("%s cache: hit (%s)", kind, path.name)
    return result


def store(kind: str, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write an entry: one uncompressed ``.npz`` (arrays, JSON metadata; no pickles).

    Written to a temporary file renamed into place, so a reader never sees a partial entry.
    A failure (full disk, read-only directory) is logged and the run goes on uncached.
    """
    path = _path(kind, key)
    _refuse_folder(path)
    meta = meta | {"kind": kind, "key": key, "format": FORMAT}
    try:
        text = json.dumps(meta, ensure_ascii=False, default=_json_default).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, meta=as_bytes(text), **arrays)
            Path(tmp).replace(path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except (OSError, TypeError, ValueError) as exc:
        log.warning(say("src_cache_unwritable", kind=_kind(kind), path=path, error=exc))
        return
    log.info("%s cache: stored %s", kind, path)


def _kind(kind: str) -> str:
    """What an entry holds (extract, ways, network), as a planner reads it."""
    key = f"src_cache_{kind}"
    return say(key) if key in CATALOGUE else kind


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(say("src_cache_cannot_store", type=type(value).__name__))
