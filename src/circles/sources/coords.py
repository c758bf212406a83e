"""Convert coordinates (GCJ-02, BD-09, EPSG) to and from WGS-84; read vector files that carry
a CRS."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import prcoords
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from circles.errors import InputError
from circles.messages import say

DATUMS = ("wgs84", "gcj02", "bd09")
SHIFTED = ("gcj02", "bd09")  # the Chinese datums no EPSG code expresses


def from_wgs84(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitudes and latitudes converted to ``datum`` (wgs84, gcj02 or bd09)."""
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if datum == "wgs84" or len(lon) == 0:
        return lon, lat
    forward = prcoords.wgs_gcj if datum == "gcj02" else prcoords.wgs_bd
    out = np.array([forward(prcoords.Coords(la, lo)) for lo, la in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


def shifted_datums(datums: object) -> list[str]:
    """The GCJ-02/BD-09 datums among ``datums`` (names as files give them), in a fixed order."""
    names = {str(d).lower().replace("-", "").replace("_", "") for d in datums if d is not None}
    return [d for d in SHIFTED if d in names]


def datum_columns(lon: np.ndarray, lat: np.ndarray, datums: object) -> dict[str, np.ndarray]:
    """``<datum>_lon``/``<datum>_lat`` of WGS-84 points in each GCJ-02/BD-09 datum among
    ``datums`` (6 decimals, about 0.1 m): the coordinates a planner pastes into Amap or Baidu."""
    columns = {}
    for datum in shifted_datums(datums):
        x, y = from_wgs84(lon, lat, datum)
        columns[f"{datum}_lon"], columns[f"{datum}_lat"] = np.round(x, 6), np.round(y, 6)
    return columns


def to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (or x/y in an EPSG CRS) converted to WGS-84 longitude/latitude.

    GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are inverted with prcoords' iterative method,
    accurate to well under a metre.

    Raises
    ------
    InputError
        For an unknown CRS name.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    name = crs.lower().replace("-", "").replace("_", "")
    if name in ("wgs84", "epsg:4326"):
        return lon, lat
    if name in ("gcj02", "bd09"):
        invert = prcoords.gcj_wgs_bored if name == "gcj02" else prcoords.bd_wgs_bored
        out = np.array([invert(prcoords.Coords(la, lo)) for lo, la in zip(lon, lat, strict=True)])
        return out[:, 1], out[:, 0]
    try:
        source = CRS.from_user_input(crs)
    except CRSError:
        raise InputError(say("src_bad_crs", crs=crs, datums=", ".join(DATUMS))) from None
    x, y = Transformer.from_crs(source, "EPSG:4326", always_xy=True).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def read_vector(path: Path, what: str) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or Shapefile that must carry a CRS.

    Raises
    ------
    InputError
        Unreadable file, or no CRS; ``what`` names the file's role in the message (in the
        run's language).
    """
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(say("src_vector_unreadable", path=path, what=what, error=exc)) from None
    if gdf.crs is None and len(gdf):
        raise InputError(say("src_vector_no_crs", path=path, what=what))
    return gdf
