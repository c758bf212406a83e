"""Read planners' point files and convert their coordinates (GCJ-02, BD-09, EPSG) to WGS-84."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from circles.errors import InputError

DATUMS = ("wgs84", "gcj02", "bd09")


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
        msg = f"--crs {crs!r}: expected one of {', '.join(DATUMS)} or an EPSG code like EPSG:4490."
        raise InputError(msg) from None
    x, y = Transformer.from_crs(source, "EPSG:4326", always_xy=True).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
NAME_NAMES = ("name", "名称", "site", "地点")


def read_points(path: str | Path, crs: str = "wgs84") -> gpd.GeoDataFrame:
    """Read points from a CSV (lon/lat columns, UTF-8 or GBK) or a vector file, in WGS-84.

    Raises
    ------
    InputError
        Missing or empty file, no recognisable coordinate columns, or non-numeric cells.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: file not found."
        raise InputError(msg)
    if path.suffix.lower() in (".csv", ".txt"):
        frame = _read_csv(path)
        if frame.empty:
            msg = f"{path}: the file holds no rows; give at least one site."
            raise InputError(msg)
        lower = {str(c).strip().lower(): c for c in frame.columns}
        lon_col = next((lower[n] for n in LON_NAMES if n in lower), None)
        lat_col = next((lower[n] for n in LAT_NAMES if n in lower), None)
        if lon_col is None or lat_col is None:
            msg = (
                f"{path}: no longitude/latitude columns; expected one of {LON_NAMES} and one of "
                f"{LAT_NAMES}, got {list(frame.columns)}."
            )
            raise InputError(msg)
        lon = pd.to_numeric(frame[lon_col], errors="coerce")
        lat = pd.to_numeric(frame[lat_col], errors="coerce")
        bad = np.flatnonzero(lon.isna().to_numpy() | lat.isna().to_numpy())
        if len(bad):
            row = int(bad[0])
            msg = (
                f"{path} row {row + 2}: expected numbers in {lon_col!r} and {lat_col!r}, got "
                f"{frame[lon_col].iloc[row]!r}, {frame[lat_col].iloc[row]!r}. Fix or drop the row."
            )
            raise InputError(msg)
        x, y = to_wgs84(lon.to_numpy(), lat.to_numpy(), crs)
        name_col = next((lower[n] for n in NAME_NAMES if n in lower), None)
        names = frame[name_col].astype(str) if name_col else None
        return gpd.GeoDataFrame({"name": names}, geometry=gpd.points_from_xy(x, y), crs=4326)
    gdf = read_vector(path, "site")
    if gdf.empty:
        msg = f"{path}: the file holds no feature; give at least one site."
        raise InputError(msg)
    points = gdf.to_crs(4326).geometry.representative_point()
    x, y = to_wgs84(points.x.to_numpy(), points.y.to_numpy(), crs)
    name_col = next((c for c in gdf.columns if str(c).lower() in NAME_NAMES), None)
    names = gdf[name_col].astype(str) if name_col else None
    return gpd.GeoDataFrame({"name": names}, geometry=gpd.points_from_xy(x, y), crs=4326)


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV in UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    msg = f"{path}: neither UTF-8 nor GBK/GB18030 text. Save it as UTF-8 CSV."
    raise InputError(msg)


def read_vector(path: Path, what: str) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or Shapefile that must carry a CRS.

    Raises
    ------
    InputError
        Unreadable file, or no CRS; ``what`` names the file's role in the message.
    """
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        msg = (
            f"{path}: cannot read the {what} file ({exc}). Give a GeoJSON, GeoPackage or Shapefile."
        )
        raise InputError(msg) from None
    if gdf.crs is None and len(gdf):
        msg = f"{path}: the {what} file has no CRS; save it with one (e.g. EPSG:4326)."
        raise InputError(msg)
    return gdf
