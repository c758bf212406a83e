"""Read office files as they are kept: a title above the header, GBK text, Shapefiles without
a ``.cpg``, DBF field names cut at 10 bytes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from circles.errors import InputError
from circles.messages import say

HEADER_SEARCH_ROWS = 10  # a title or notes above the header: look for it this far down
DBF_NAME_BYTES = 10  # a DBF field name is cut at this many bytes


def read_grid(path: Path, sheet: str | int = 0) -> pd.DataFrame:
    """A CSV or XLSX sheet as a grid of text cells (blanks as NaN), one row per spreadsheet row.

    Raises
    ------
    InputError
        A CSV in neither UTF-8 nor GBK/GB18030.
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        grid = pd.read_excel(path, sheet_name=sheet, header=None, dtype=str, engine="openpyxl")
    else:
        sep = "\t" if suffix == ".tsv" else ","
        rows = list(csv.reader(io.StringIO(_decoded(path)), delimiter=sep))
        width = max((len(r) for r in rows), default=0)
        grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    grid = grid.map(lambda v: v.strip() if isinstance(v, str) else v)
    return grid.replace("", np.nan)


def _decoded(path: Path) -> str:
    """A text file's content: UTF-8 (with or without BOM), else GB18030 (GBK, GB2312)."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(say("src_not_utf8_gbk", path=path))


def header_row(grid: pd.DataFrame, known: set[str]) -> int:
    """The row (from 0) among the first ``HEADER_SEARCH_ROWS`` naming most known columns.

    ``known`` holds normalised column names; the first row wins a tie, and when no row names
    a known column."""
    scores = [
        sum(normalise(v) in known for v in row if isinstance(v, str))
        for row in grid.head(HEADER_SEARCH_ROWS).itertuples(index=False)
    ]
    return int(np.argmax(scores)) if scores and max(scores) > 0 else 0


def with_header(grid: pd.DataFrame, row: int) -> pd.DataFrame:
    """The rows below ``row`` with that row's cells as column names (unique; a blank one
    named by its position, in English as pandas names it), indexed by spreadsheet row
    (first = 1)."""
    names: list[str] = []
    for j, value in enumerate(grid.iloc[row] if len(grid) else []):
        name = str(value) if isinstance(value, str) else say("src_blank_header", j=j, n=j + 1)
        base, k = name, 1
        while name in names:
            name, k = f"{base}.{k}", k + 1
        names.append(name)
    body = grid.iloc[row + 1 :].copy()
    body.columns = names
    body.index = body.index + 1
    return body


def normalise(text: object) -> str:
    """Text as compared with known names: lower-case, without spaces or underscores."""
    return re.sub(r"[\s_]+", "", str(text)).lower()


def read_vector(path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    """A vector file, and the text encoding guessed for a Shapefile without a ``.cpg`` (or
    ``None``).

    Without a ``.cpg`` (nor a code page in the DBF), GDAL reads text as Latin-1; the bytes
    are then tried as UTF-8 and as GB18030 (GBK) and the file read again in the first that
    decodes them."""
    gdf = gpd.read_file(path)
    if path.suffix.lower() != ".shp" or _has_sidecar(path, ".cpg"):
        return gdf, None
    if pyogrio.read_info(path).get("encoding", "").upper() not in ("ISO-8859-1", "LATIN1"):
        return gdf, None
    raw = "".join(_texts(gdf)).encode("latin-1", errors="ignore")
    if raw.isascii():
        return gdf, None
    for encoding, name in (("UTF-8", "UTF-8"), ("GB18030", "GBK")):  # GB18030 holds GBK
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return gpd.read_file(path, encoding=encoding), name
    return gdf, None


def _texts(gdf: gpd.GeoDataFrame) -> Iterable[str]:
    """Column names and text cells of a frame."""
    yield from map(str, gdf.columns)
    for column in gdf.columns:
        if gdf[column].dtype == object and column != gdf.geometry.name:
            yield from (v for v in gdf[column] if isinstance(v, str))


def _has_sidecar(path: Path, suffix: str) -> bool:
    """Whether a Shapefile's ``.cpg``/``.prj`` (any case) lies beside it."""
    return any(path.with_suffix(s).is_file() for s in (suffix, suffix.upper()))


def declares_crs(path: Path, gdf: gpd.GeoDataFrame) -> bool:
    """Whether a vector file states its own CRS: a Shapefile's ``.prj``, a GeoJSON ``crs``
    member (GDAL assumes WGS-84 without one), a GeoPackage's spatial reference."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return _has_sidecar(path, ".prj")
    if suffix in (".geojson", ".json"):
        with path.open("rb") as f:
            return re.search(rb'"crs"\s*:', f.read(65536)) is not None
    return gdf.crs is not None


def truncated_match(column: str, known: Iterable[str]) -> str | None:
    """The known name a DBF field name is the cut-off start of (``60岁以上人`` for
    ``60岁以上人口``): a name too long for a DBF field, in UTF-8 or GBK, that begins with
    ``column`` (three characters at least)."""
    short = normalise(column)
    if len(short) < 3:
        return None
    for name in known:
        full = normalise(name)
        too_long = max(len(name.encode("utf-8")), len(name.encode("gb18030"))) > DBF_NAME_BYTES
        if too_long and full != short and full.startswith(short):
            return name
    return None
