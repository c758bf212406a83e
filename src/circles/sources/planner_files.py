"""Read and check planners' own files: facilities, communities and boundaries.

Tables (CSV in UTF-8 or GBK/GB18030, XLSX) and vector files (GeoJSON, GeoPackage, Shapefile)
come out as WGS-84 GeoDataFrames. Every problem names the file, the row (spreadsheet row with
the header as row 1, or feature number) and the column. Errors stop the run with exit code 2;
warnings let it go on and are listed in the report. The files themselves are never modified.

A file may carry options after ``::``, e.g. ``助餐点.xlsx::category=elderly_meal,crs=gcj02``:
``category`` (for rows without one), ``crs``, ``sheet``, ``level`` (boundaries) and the name
of any column (``lon``, ``lat``, ``location``, ``name``, ``id``, ``category``, ``capacity``,
``area``, ``floor_area``, ``population``, ``households``, ``elderly``, ``children``) when it
is not detected.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from circles.errors import InputError
from circles.messages import current_language, say
from circles.sources.coords import DATUMS, from_wgs84, to_wgs84
from circles.sources.office_files import (
    declares_crs,
    header_row,
    normalise,
    read_grid,
    truncated_match,
    with_header,
)
from circles.sources.office_files import read_vector as read_office_vector
from circles.standards import Standards

STREET_TEST_OFF_M = 150  # a datum shift leaves points this far off the streets (median)
STREET_TEST_MIN_POINTS = 5
MAX_LISTED = 15  # problems printed per run; the rest are counted

# detected column names (compared lower-case, without spaces); a file option overrides
COLUMNS: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "wgs84_lng", "wgs84_lon", "wgs_lng",
            "gcj02_lng", "gcj02_lon", "gcj_lng", "bd09_lng", "bd09_lon", "bd_lng", "高德经度",
            "百度经度", "经度坐标"),
    "lat": ("lat", "latitude", "y", "纬度", "wgs84_lat", "wgs_lat", "gcj02_lat", "gcj_lat",
            "bd09_lat", "bd_lat", "高德纬度", "百度纬度", "纬度坐标"),
    "location": ("location", "坐标", "经纬度", "lnglat", "lonlat", "gcj02坐标", "百度坐标"),
    "category": ("category", "category_id", "类别", "类型", "设施类别", "设施类型", "分类",
                 "设施分类", "type"),
    "name": ("name", "名称", "设施名称", "机构名称", "单位名称", "站点名称", "社区名称",
             "小区名称", "街道名称", "区名称", "name_zh", "名字"),
    "id": ("id", "facility_id", "community_id", "unit_id", "编号", "代码", "编码", "社区代码",
           "统一编号", "code"),
    "capacity": ("capacity", "places", "beds", "seats", "床位", "床位数", "托位", "托位数",
                 "学位", "学位数", "餐位", "餐位数", "座位数", "容量"),
    "area": ("area_m2", "面积", "场地面积", "用地面积", "占地面积"),
    # building floor area (a culture centre's 建筑面积), never read from OSM footprints
    "floor_area": ("floor_area_m2", "floor_area", "建筑面积", "服务设施面积", "设施面积"),
    "population": ("population", "pop", "人口", "常住人口", "总人口", "户籍人口", "人口数",
                   "居住人口"),
    "households": ("households", "户数", "总户数", "住户数"),
    "elderly": ("elderly", "pop_60plus", "age_60plus", "60岁以上人口", "60岁及以上人口",
                "老年人口", "老年人数", "60+"),
    "children": ("children", "pop_children", "儿童人口", "0-6岁人口", "0～6岁人口", "0-3岁人口",
                 "婴幼儿人口", "儿童数"),
    "level": ("level", "级别", "层级", "admin_level"),
}  # fmt: skip
DATUM_HINTS = {"gcj": "gcj02", "高德": "gcj02", "amap": "gcj02", "bd": "bd09", "百度": "bd09",
               "baidu": "bd09"}  # fmt: skip
LEVEL_VALUES = {
    "district": ("district", "区", "县", "区县", "县级市", "旗"),
    "street": ("street", "subdistrict", "街道", "镇", "乡", "街道办事处", "乡镇", "苏木"),
    "village": ("village", "村", "行政村", "村委会"),
    "community": ("community", "社区", "居委会", "小区"),
}
OPTION_KEYS = {*COLUMNS, "crs", "sheet"}


@dataclass(frozen=True)
class Problem:
    """One finding about an input file: its message, said when found, and where it is, said
    when printed (``文件“a.csv”，第 5 行，列“名称”：…`` / ``a.csv, row 5, column '名称': …``)."""

    level: Literal["error", "warning"]
    file: str
    message: str
    row: int | None = None  # spreadsheet row (header = 1) or feature number (first = 1)
    column: str | None = None
    row_label: str = "row"  # "row" or "feature": an id, said through the catalogue

    def __str__(self) -> str:
        where = [say("in_file", file=self.file)]
        if self.row is not None:
            where.append(at(self.row_label, self.row))
        if self.column is not None:
            where.append(say("in_column", column=self.column))
        return say("in_problem", where=say("in_where_sep").join(where), message=self.message)


def at(row_label: str, row: int) -> str:
    """Where one record is: ``row 5`` / ``第 5 行``, ``feature 3`` / ``第 3 个要素``."""
    return say(f"in_at_{row_label}", n=row)


def _at_rows(row_label: str, rows: list[int]) -> str:
    """Where several records are: ``rows [2, 3]`` / ``第 2、3 行``."""
    listed = say("in_list_sep").join(map(str, rows)) if current_language() == "zh" else str(rows)
    return say(f"in_rows_{row_label}", rows=listed)


def _listing(values: Sequence[object]) -> str:
    """Values quoted and listed: ``['a', 'b']`` / ``“a”、“b”`` (column names in messages)."""
    if current_language() != "zh":
        return str(list(values))
    return say("in_list_sep").join(say("in_quoted", text=v) for v in values) or say("none")


@dataclass
class Problems:
    """Errors and warnings found while reading planners' files."""

    items: list[Problem] = field(default_factory=list)
    strict: bool = False  # rows without coordinates are errors, not skipped with a warning

    def error(self, file: object, message: str, **where: object) -> None:
        """Record an error in ``file`` (``where``: row, column, row label)."""
        self.items.append(Problem("error", str(file), message, **where))

    def warning(self, file: object, message: str, **where: object) -> None:
        """Record a warning in ``file`` (``where``: row, column, row label)."""
        self.items.append(Problem("warning", str(file), message, **where))

    @property
    def errors(self) -> list[Problem]:
        """The errors recorded, in order."""
        return [p for p in self.items if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The warnings recorded, in order."""
        return [p for p in self.items if p.level == "warning"]

    def raise_errors(self) -> None:
        """Raise one ``InputError`` listing the errors (the first ``MAX_LISTED`` of them)."""
        errors = self.errors
        if not errors:
            return
        lines = [str(p) for p in errors[:MAX_LISTED]]
        if len(errors) > MAX_LISTED:
            lines.append(say("in_more_errors", n=len(errors) - MAX_LISTED))
        head = say("in_errors_head", n=len(errors)) if len(errors) > 1 else ""
        raise InputError("\n".join([head, *lines]).strip())


@dataclass(frozen=True)
class FileSpec:
    """A planner's file and its options (``path::key=value,key=value``)."""

    path: Path
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | Path | FileSpec) -> FileSpec:
        """Split ``path::key=value,...``; unknown option keys are an error."""
        if isinstance(text, FileSpec):
            return text
        path, _, opts = str(text).partition("::")
        options: dict[str, str] = {}
        for item in filter(None, (o.strip() for o in opts.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip().lower()
            if not sep or key not in OPTION_KEYS or not value.strip():
                keys = ", ".join(sorted(OPTION_KEYS))
                raise InputError(say("in_bad_option", text=text, item=item, keys=keys))
            options[key] = value.strip()
        return cls(Path(path), options)

    def __str__(self) -> str:
        return str(self.path)


@dataclass
class Table:
    """A file's rows as text, with its geometry (vector files) and where each row came from."""

    frame: pd.DataFrame  # cells as str, blanks as NaN
    geometry: gpd.GeoSeries | None
    row: np.ndarray  # spreadsheet row or feature number of each record
    row_label: str
    declares_crs: bool = False  # a vector file stating its own CRS (.prj, GeoJSON crs member)
    dbf: bool = False  # a Shapefile: field names may be cut at 10 bytes

    def subset(self, keep: np.ndarray) -> Table:
        """The records where ``keep`` is ``True``, with their rows."""
        geometry = None if self.geometry is None else self.geometry[keep].reset_index(drop=True)
        frame = self.frame[keep].reset_index(drop=True)
        return Table(frame, geometry, self.row[keep], self.row_label, self.declares_crs, self.dbf)


KNOWN_COLUMNS = {normalise(n) for names in COLUMNS.values() for n in names}


def read_table(spec: FileSpec, problems: Problems) -> Table | None:
    """Read a CSV, XLSX or vector file as text cells; ``None`` (with an error) if unusable.

    The header of a table is the row among the first 10 naming most known columns (a title
    or notes above it are skipped); a Shapefile without a ``.cpg`` is read in the encoding
    its text decodes in (UTF-8, else GBK), with a warning."""
    path = spec.path
    if not path.is_file():
        problems.error(path, say("in_not_found"))
        return None
    suffix = path.suffix.lower()
    if suffix == ".xls":
        problems.error(path, say("in_xls"))
        return None
    try:
        if suffix in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
            return _read_sheet(spec, problems)
        return _read_vector_table(path, problems)
    except InputError:
        raise
    except Exception as exc:  # readers raise many types for corrupt files
        problems.error(path, say("in_unreadable", kind=type(exc).__name__, exc=exc))
        return None


def _read_sheet(spec: FileSpec, problems: Problems) -> Table | None:
    """A CSV or XLSX sheet below its header row; rows numbered as the spreadsheet shows them."""
    grid = read_grid(spec.path, spec.options.get("sheet", 0))
    named = {normalise(v) for k, v in spec.options.items() if k in COLUMNS}  # ::lon=X
    head = header_row(grid, KNOWN_COLUMNS | named)
    if head > 0:
        problems.warning(spec, say("in_header_below", row=head + 1, n=head))
    frame = with_header(grid, head).dropna(how="all")
    if frame.empty:
        problems.error(spec.path, say("in_no_rows"))
        return None
    return Table(frame.reset_index(drop=True), None, frame.index.to_numpy(), "row")


def _read_vector_table(path: Path, problems: Problems) -> Table | None:
    """A vector file's attributes as text and its geometry; it must carry a CRS."""
    gdf, guessed = read_office_vector(path)
    if guessed is not None:
        problems.warning(path, say("in_no_cpg", encoding=guessed))
    if gdf.crs is None and len(gdf):
        problems.error(path, say("in_no_crs"))
        return None
    if gdf.empty:
        problems.error(path, say("in_no_rows"))
        return None
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    frame = frame.where(frame.notna(), np.nan).map(
        lambda v: v if isinstance(v, float) and np.isnan(v) else str(v)
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    declared, dbf = declares_crs(path, gdf), path.suffix.lower() == ".shp"
    rows = np.arange(len(frame)) + 1
    return Table(frame.reset_index(drop=True), gdf.geometry, rows, "feature", declared, dbf)


NUMBER_WORDS = {"a number": "in_a_number", "a population": "in_a_population"}  # numbers(what=)
VALUE_OPTIONS = ("category", "level")  # name a column, or else the value of every row


def option_value(table: Table, spec: FileSpec, key: str) -> str | None:
    """The value a ``category=`` or ``level=`` option gives every row (None: it names a column)."""
    value = spec.options.get(key)
    return None if value is None or value in table.frame.columns else value


def find_column(table: Table, spec: FileSpec, key: str, problems: Problems) -> str | None:
    """The column for ``key``: the file option, else the first known name present."""
    if key in spec.options and not (key in VALUE_OPTIONS and option_value(table, spec, key)):
        name = spec.options[key]
        if name not in table.frame.columns:
            columns = _listing(list(table.frame))
            problems.error(spec, say("in_no_such_column", key=key, name=name, columns=columns))
        return name if name in table.frame.columns else None
    by_norm = {normalise(c): c for c in table.frame.columns}
    found = next((by_norm[normalise(n)] for n in COLUMNS[key] if normalise(n) in by_norm), None)
    if found is None and table.dbf:  # a DBF field name cut at 10 bytes: 60岁以上人
        found = next((c for c in table.frame.columns if truncated_match(c, COLUMNS[key])), None)
    return found


def numbers(
    table: Table,
    column: str | None,
    spec: FileSpec,
    problems: Problems,
    *,
    required: bool = False,
    what: str = "a number",
) -> np.ndarray:
    """A column as floats ≥ 0 (NaN where blank); bad cells are errors naming row and column.

    ``what`` the values are, for messages: ``a number`` or ``a population``."""
    n = len(table.frame)
    if column is None:
        return np.full(n, np.nan)
    text = table.frame[column]
    values = pd.to_numeric(text.astype(str).str.replace(",", "").str.strip(), errors="coerce")
    values = values.where(text.notna()).to_numpy(float, copy=True)
    noun = say(NUMBER_WORDS[what])
    for i in np.flatnonzero(text.notna().to_numpy() & ~np.isfinite(values)):
        message = say("in_expected", what=noun, value=text.iloc[i])
        problems.error(spec, message, **cell(table, i, column))
    for i in np.flatnonzero(values < 0):
        problems.error(spec, say("in_negative", value=text.iloc[i]), **cell(table, i, column))
    values[~np.isfinite(values) | (values < 0)] = np.nan  # reported above; never used
    if required:
        for i in np.flatnonzero(text.isna().to_numpy()):
            problems.error(spec, say("in_missing", what=noun), **cell(table, i, column))
    return values


def cell(table: Table, i: int, column: str | None = None) -> dict:
    """Where record ``i`` is, as ``Problems.error`` keywords (row, column, row label)."""
    return {"row": int(table.row[i]), "column": column, "row_label": table.row_label}


def _datum(spec: FileSpec, default: str | None, hint_columns: Sequence[str]) -> tuple[str, bool]:
    """A table's datum: its option, else a hint in a column name (高德经度), else ``default``
    (``None``: not stated, read as WGS-84).

    Returns the datum and whether it was stated (option, hint or a ``default``)."""
    if "crs" in spec.options:
        return spec.options["crs"], True
    for column in hint_columns:
        for hint, datum in DATUM_HINTS.items():
            if hint in normalise(column):
                return datum, True
    return default or "wgs84", default is not None


def _is_shifted(datum: str) -> bool:
    """Whether ``datum`` is GCJ-02 or BD-09, the Chinese datums no EPSG CRS expresses."""
    return datum.lower() in ("gcj02", "bd09")


def _vector_datum(table: Table, spec: FileSpec, crs: str | None) -> str:
    """A vector file's datum once its own CRS is applied: GCJ-02/BD-09 if its option says so,
    or the global ``crs`` for a file that does not state its CRS; else WGS-84.

    A Shapefile with a WGS-84 ``.prj`` is never shifted by a global ``--crs gcj02``."""
    if "crs" in spec.options:
        datum = spec.options["crs"]
    elif table.declares_crs or crs is None:
        return "wgs84"
    else:
        datum = crs
    return datum if _is_shifted(datum) else "wgs84"


def _in_wgs84(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Geometry converted to WGS-84 by its own CRS (as it is without one)."""
    return geometry.to_crs(4326) if geometry.crs is not None else geometry


def _is_geographic(crs: str) -> bool:
    """Whether ``crs`` is in degrees (an invalid CRS counts as degrees: to_wgs84 reports it)."""
    name = crs.lower().replace("-", "").replace("_", "")
    if name in DATUMS:
        return True
    try:
        return CRS.from_user_input(crs).is_geographic
    except Exception:  # an invalid CRS is reported by to_wgs84
        return True


@dataclass
class _Coordinates:
    """Coordinates as a file gives them, before conversion to WGS-84."""

    x: np.ndarray
    y: np.ndarray
    bad: np.ndarray  # records without coordinates (already reported)
    datum: str  # the datum or CRS they are in
    columns: tuple[str, str]  # the longitude and latitude columns, named in messages
    stated: bool = True  # whether an option, a column name or --crs gave the datum


def points_from_table(
    table: Table,
    spec: FileSpec,
    crs: str | None,
    problems: Problems,
    extract_bounds: BaseGeometry | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """WGS-84 lon/lat of each record, whether it is usable, and the datum it was read in.

    Checks: coordinates present and numeric, latitude and longitude not swapped, no mix of
    degrees and projected metres, GCJ-02/BD-09 points inside China, points inside the extract.

    Parameters
    ----------
    table
        A vector file's features (read at a representative point), or a table's rows with
        longitude/latitude columns or a ``lon,lat`` location column.
    spec, problems
        The file with its options, and where its errors are collected.
    crs
        The datum or CRS of coordinates when neither an option nor a column name says;
        ``None``: not stated, an error for a table with points inside China, where the
        datum could be any of three.
    extract_bounds
        The OSM extract's area: records outside it are errors.

    Returns
    -------
    lon, lat, bad : ndarray
        WGS-84 coordinates of each record, and ``True`` where it has an error.
    datum : str
        The datum or CRS the coordinates were read in.
    """
    n = len(table.frame)
    if table.geometry is not None:
        coords = _coordinates_from_geometry(table.geometry, table, spec, crs, problems)
    else:
        coords = _coordinates_from_columns(table, spec, crs, problems)
    if coords is None:
        return np.full(n, np.nan), np.full(n, np.nan), np.ones(n, bool), crs or "wgs84"
    ok = _usable_coordinates(coords, table, spec, problems, extract_bounds)
    if ok is not None and not coords.stated and _in_china(coords.x[ok], coords.y[ok]).any():
        problems.error(spec, _unstated_datum(coords, ok, spec, extract_bounds))
        ok = None
    if ok is None:
        return coords.x, coords.y, np.ones(n, bool), coords.datum
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    if ok.any():
        try:
            lon[ok], lat[ok] = to_wgs84(coords.x[ok], coords.y[ok], coords.datum)
        except InputError as exc:
            problems.error(spec, str(exc))
            return lon, lat, np.ones(n, bool), coords.datum
    if extract_bounds is not None:
        column = coords.columns[0]
        hint = _datum_hint(lon, lat, ok, extract_bounds) if coords.datum == "wgs84" else ""
        ok &= ~_outside_extract(lon, lat, ok, extract_bounds, table, spec, problems, column, hint)
    return lon, lat, ~ok, coords.datum


def _unstated_datum(
    coords: _Coordinates, ok: np.ndarray, spec: FileSpec, extract_bounds: BaseGeometry | None
) -> str:
    """The error for points inside China read without a datum: which one is it?"""
    hint = "" if extract_bounds is None else _datum_hint(coords.x, coords.y, ok, extract_bounds)
    return say("in_no_datum", file=spec.path.name, hint=hint)


def without_coordinates(table: Table, spec: FileSpec, problems: Problems) -> Table:
    """A table's records less those without any coordinates (footer rows such as 填表人…,
    rows still to be located), which are listed in one warning (an error when strict)."""
    if table.geometry is not None:
        return table
    columns = [
        c
        for key in ("lon", "lat", "location")
        if (c := find_column(table, spec, key, Problems())) is not None
    ]
    if not columns:
        return table  # reported as missing columns
    blank = table.frame[columns].isna().all(axis=1).to_numpy()
    if not blank.any():
        return table
    names = _names(table, spec, Problems())
    listed = say("in_list_sep").join(
        say(
            "in_unlocated_entry",
            row=r,
            name=names[i] if isinstance(names[i], str) else _first_text(table, i),
        )
        for i, r in _first(blank, table.row)
    )
    n = int(blank.sum())
    more = say("in_unlocated_more", n=n - MAX_LISTED) if n > MAX_LISTED else ""
    where = {"n": n, "label": table.row_label, "listed": listed, "more": more}
    if problems.strict:
        problems.error(spec, say("in_unlocated", **where))
    else:
        problems.warning(spec, say("in_unlocated_skipped", **where))
    return table.subset(~blank)


def _first(mask: np.ndarray, rows: np.ndarray) -> list[tuple[int, int]]:
    """The first ``MAX_LISTED`` records where ``mask`` holds: (index, row)."""
    return [(int(i), int(rows[i])) for i in np.flatnonzero(mask)[:MAX_LISTED]]


def _first_text(table: Table, i: int) -> str:
    """The first non-blank cell of record ``i``, shortened, to say which row it is."""
    text = next((str(v) for v in table.frame.iloc[i] if isinstance(v, str)), "")
    return text if len(text) <= 20 else text[:19] + "…"


def _coordinates_from_geometry(
    geometry: gpd.GeoSeries, table: Table, spec: FileSpec, crs: str | None, problems: Problems
) -> _Coordinates:
    """A representative point of each feature, in WGS-84 or in the GCJ-02/BD-09 datum given."""
    empty = geometry.isna().to_numpy() | geometry.is_empty.to_numpy()
    for i in np.flatnonzero(empty):
        problems.error(spec, say("in_no_geometry"), **cell(table, i))
    points = _in_wgs84(geometry).representative_point()
    x = np.where(empty, np.nan, points.x.to_numpy())
    y = np.where(empty, np.nan, points.y.to_numpy())
    datum = _vector_datum(table, spec, crs)
    return _Coordinates(x, y, empty, datum, ("geometry", "geometry"))


def _coordinates_from_columns(
    table: Table, spec: FileSpec, crs: str | None, problems: Problems
) -> _Coordinates | None:
    """The numbers in the longitude/latitude columns; ``None`` (an error) without such columns."""
    table, lon_col, lat_col = _coordinate_columns(table, spec, problems)
    if lon_col is None or lat_col is None:
        problems.error(spec, say("in_no_lonlat", columns=_listing(list(table.frame.columns))))
        return None
    datum, stated = _datum(spec, crs, [lon_col, lat_col])
    x, y = (
        pd.to_numeric(table.frame[c], errors="coerce").to_numpy(float) for c in (lon_col, lat_col)
    )
    for i in np.flatnonzero(np.isnan(x) | np.isnan(y)):
        col = lon_col if np.isnan(x[i]) else lat_col
        value = table.frame[col].iloc[i]
        got = say("in_got_nothing") if pd.isna(value) else say("in_quoted", text=value)
        problems.error(spec, say("in_not_coordinate", got=got), **cell(table, i, col))
    return _Coordinates(x, y, np.isnan(x) | np.isnan(y), datum, (lon_col, lat_col), stated)


def _coordinate_columns(
    table: Table, spec: FileSpec, problems: Problems
) -> tuple[Table, str | None, str | None]:
    """The longitude and latitude columns, split out of a 'lon,lat' location column if need be."""
    lon_col = find_column(table, spec, "lon", problems)
    lat_col = find_column(table, spec, "lat", problems)
    loc_col = find_column(table, spec, "location", problems)
    if (lon_col is None or lat_col is None) and loc_col is not None:
        parts = table.frame[loc_col].astype(str).str.split(r"[,，\s]+", n=1, expand=True)
        frame = table.frame.assign(_lon=parts[0], _lat=parts[1] if parts.shape[1] > 1 else None)
        return Table(frame, None, table.row, table.row_label), "_lon", "_lat"
    return table, lon_col, lat_col


def _usable_coordinates(
    coords: _Coordinates,
    table: Table,
    spec: FileSpec,
    problems: Problems,
    extract_bounds: BaseGeometry | None,
) -> np.ndarray | None:
    """Records whose coordinates pass the checks before conversion; ``None`` if the file fails."""
    ok = ~coords.bad
    if not _is_geographic(coords.datum):
        if _degrees_among_metres(coords, ok, table, spec, problems):
            return None
    elif _metres_among_degrees(coords, ok, table, spec, problems):
        return None
    else:
        ok &= ~_swapped_or_out_of_range(coords, ok, table, spec, problems, extract_bounds)
    if _is_shifted(coords.datum):
        ok &= ~_outside_china(coords, ok, table, spec, problems)
    return ok


def _degrees_among_metres(
    coords: _Coordinates, ok: np.ndarray, table: Table, spec: FileSpec, problems: Problems
) -> bool:
    """Report degrees mixed into projected coordinates; ``True`` if so (the file is unusable)."""
    metres_like = ok & (np.abs(coords.x) > 1000)
    degree_like = ok & ~metres_like
    if not (metres_like.any() and degree_like.any()):
        return False
    rows = _at_rows(table.row_label, table.row[degree_like][:5].tolist())
    message = say("in_degrees_among_metres", n=degree_like.sum(), rows=rows, datum=coords.datum)
    problems.error(spec, message, column=coords.columns[0])
    return True


def _metres_among_degrees(
    coords: _Coordinates, ok: np.ndarray, table: Table, spec: FileSpec, problems: Problems
) -> bool:
    """Report projected metres in a file read as degrees; ``True`` if any (the file is unusable)."""
    x, y = coords.x, coords.y
    metres_like = ok & ((np.abs(x) > 180) | (np.abs(y) > 180))
    if not metres_like.any():
        return False
    if metres_like.sum() < ok.sum():
        rows = _at_rows(table.row_label, table.row[metres_like][:5].tolist())
        message = say("in_metres_among_degrees", n=metres_like.sum(), total=ok.sum(), rows=rows)
    else:
        message = say("in_all_metres", x=x[metres_like][0], y=y[metres_like][0])
    problems.error(spec, message, column=coords.columns[0])
    return True


def _swapped_or_out_of_range(
    coords: _Coordinates,
    ok: np.ndarray,
    table: Table,
    spec: FileSpec,
    problems: Problems,
    extract_bounds: BaseGeometry | None,
) -> np.ndarray:
    """Report degrees with latitude and longitude swapped, or out of range; ``True`` there."""
    x, y = coords.x, coords.y
    lon_col, lat_col = coords.columns
    china = extract_bounds is None or _in_china(
        extract_bounds.centroid.x, extract_bounds.centroid.y
    )
    swapped = ok & (np.abs(y) > 90) & (np.abs(x) <= 90)
    if china:  # in China latitude is 18-54 and longitude 73-135
        swapped |= ok & (x >= 18) & (x <= 54) & (y >= 73) & (y <= 135)
    for i in np.flatnonzero(swapped):
        message = say("in_swapped", lon=x[i], lat=y[i], lon_col=lon_col, lat_col=lat_col)
        problems.error(spec, message, **cell(table, i, lat_col))
    out_of_range = ok & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
    for i in np.flatnonzero(out_of_range):
        problems.error(spec, say("in_not_lonlat", x=x[i], y=y[i]), **cell(table, i))
    return swapped | out_of_range


def _outside_china(
    coords: _Coordinates, ok: np.ndarray, table: Table, spec: FileSpec, problems: Problems
) -> np.ndarray:
    """Report GCJ-02/BD-09 coordinates outside China, where the datum is not defined."""
    outside = ok & ~_in_china(coords.x, coords.y)
    for i in np.flatnonzero(outside):
        message = say(
            "in_outside_china",
            x=coords.x[i],
            y=coords.y[i],
            datum=coords.datum,
            datum_up=coords.datum.upper(),
        )
        problems.error(spec, message, **cell(table, i, coords.columns[0]))
    return outside


def _outside_extract(
    lon: np.ndarray,
    lat: np.ndarray,
    ok: np.ndarray,
    extract_bounds: BaseGeometry,
    table: Table,
    spec: FileSpec,
    problems: Problems,
    column: str,
    hint: str = "",
) -> np.ndarray:
    """Report WGS-84 points outside the OSM extract; ``True`` there."""
    outside = ok & ~shapely.contains_xy(extract_bounds, lon, lat)
    for i in np.flatnonzero(outside):
        west, south, east, north = (round(v, 4) for v in extract_bounds.bounds)
        message = say(
            "in_outside_extract",
            lon=lon[i],
            lat=lat[i],
            west=west,
            south=south,
            east=east,
            north=north,
            hint=hint,
        )
        problems.error(spec, message, **cell(table, i, column))
    return outside


def _datum_hint(
    lon: np.ndarray, lat: np.ndarray, ok: np.ndarray, extract_bounds: BaseGeometry
) -> str:
    """When points read as WGS-84 fall outside the extract but all lie inside it read as
    GCJ-02 or BD-09, the datum to give."""
    outside = ok & ~shapely.contains_xy(extract_bounds, lon, lat)
    if not outside.any() or not _in_china(lon[outside], lat[outside]).all():
        return ""
    for datum in ("gcj02", "bd09"):
        x, y = to_wgs84(lon[ok], lat[ok], datum)
        if shapely.contains_xy(extract_bounds, x, y).all():
            return say(f"in_inside_as_{datum}")
    return ""


def _in_china(lon: object, lat: object) -> np.ndarray:
    """Where GCJ-02 and BD-09 are defined (prcoords' own test)."""
    pairs = zip(np.atleast_1d(lon), np.atleast_1d(lat), strict=True)
    return np.array([prcoords.sanity_in_china_p(prcoords.Coords(la, lo)) for lo, la in pairs])


def _ids(table: Table, spec: FileSpec, problems: Problems, prefix: str) -> np.ndarray:
    """Record ids from the id column (duplicates are errors), else ``<prefix>:<row>``."""
    column = find_column(table, spec, "id", problems)
    if column is None:
        return np.array([f"{prefix}:{r}" for r in table.row], dtype=object)
    ids = table.frame[column].astype(str).str.strip()
    missing = table.frame[column].isna().to_numpy()
    for i in np.flatnonzero(missing):
        problems.error(spec, say("in_id_missing"), **cell(table, i, column))
    dup = ids.duplicated(keep=False).to_numpy() & ~missing
    rows_of = pd.Series(table.row[dup]).groupby(ids[dup].to_numpy(), sort=False)  # one pass
    for value, rows in rows_of:
        rows = rows.tolist()
        problems.error(
            spec,
            say("in_duplicate_id", value=value, rows=_at_rows(table.row_label, rows)),
            row=rows[1],
            column=column,
            row_label=table.row_label,
        )
    return np.array([f"{prefix}:{v}" for v in ids], dtype=object)


def _names(table: Table, spec: FileSpec, problems: Problems) -> np.ndarray:
    """Record names from the name column (``None`` where blank or without one)."""
    column = find_column(table, spec, "name", problems)
    if column is None:
        return np.full(len(table.frame), None, dtype=object)
    names = table.frame[column]
    return names.where(names.notna(), None).to_numpy(dtype=object)


def category_labels(standards: Standards) -> dict[str, str]:
    """Every accepted way to name a category (id, Chinese and English names, aliases) -> id."""
    labels: dict[str, str] = {}
    for cat in standards.categories.categories:
        for text in (cat.id, cat.name.zh, cat.name.en, *cat.aliases):
            labels[normalise(text)] = cat.id
    return labels


def read_facilities(
    spec: FileSpec | str | Path,
    standards: Standards,
    crs: str | None = None,
    extract_bounds: BaseGeometry | None = None,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """A planner's facility list as WGS-84 points.

    Parameters
    ----------
    spec
        A CSV, XLSX or vector file with its options, e.g. ``助餐点.xlsx::category=elderly_meal``.
    standards
        The categories a facility may name (id, Chinese or English name, alias).
    crs
        The datum or CRS of coordinates when neither an option nor a column name says.
    extract_bounds
        The OSM extract's area: facilities outside it are errors.
    problems
        Where the file's errors are collected (a new collection if not given).

    Returns
    -------
    GeoDataFrame
        ``facility_id``, ``category_id``, ``name``, ``source`` and ``matched_by``
        (``planner``), ``capacity``, ``area_m2`` (site area), ``floor_area_m2`` (building
        floor area), ``source_file``, ``source_row`` and
        ``given_crs`` (the datum the coordinates were read in); rows with errors are left out.

    Raises
    ------
    InputError
        For a bad file option, or a CSV in neither UTF-8 nor GBK/GB18030.
    """
    spec = FileSpec.parse(spec)
    problems = problems if problems is not None else Problems()
    table = read_table(spec, problems)
    if table is None:
        return _empty_facilities()
    table = without_coordinates(table, spec, problems)
    lon, lat, bad, datum = points_from_table(table, spec, crs, problems, extract_bounds)
    categories = _facility_categories(table, spec, standards, problems)
    if categories is None:
        return _empty_facilities()
    category_ids, bad_category = categories
    columns = _facility_columns(table, spec, problems, category_ids, datum)
    faulty = {p.row for p in problems.errors if p.file == str(spec) and p.row is not None}
    keep = ~bad & ~bad_category & pd.notna(category_ids) & ~np.isin(table.row, list(faulty))
    return _kept_records(columns, gpd.points_from_xy(lon, lat), keep)


def _facility_categories(
    table: Table, spec: FileSpec, standards: Standards, problems: Problems
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each record's category id (its cell, else the file option) and ``True`` where it is bad.

    ``None`` (with an error) when the option names no category or nothing gives one."""
    labels = category_labels(standards)
    column = find_column(table, spec, "category", problems)
    default = option_value(table, spec, "category")
    if default is not None and normalise(default) not in labels:
        text = _unknown_category(default, labels, standards)
        problems.error(spec, say("in_option_category", text=text))
        return None
    if column is None and default is None:
        problems.error(spec, say("in_no_category", file=spec.path))
        return None
    return _labels_from_column(
        table,
        column,
        labels.get(normalise(default)) if default else None,
        spec,
        problems,
        labels=labels,
        unknown=lambda value: _unknown_category(value, labels, standards),
        missing=say("in_category_missing"),
    )


def _facility_columns(
    table: Table, spec: FileSpec, problems: Problems, category_ids: np.ndarray, datum: str
) -> dict[str, object]:
    """The columns of the facility frame: ids, names, capacity, floor area and provenance."""
    capacity = numbers(table, find_column(table, spec, "capacity", problems), spec, problems)
    area = numbers(table, find_column(table, spec, "area", problems), spec, problems)
    floor_area = numbers(table, find_column(table, spec, "floor_area", problems), spec, problems)
    ids = _ids(table, spec, problems, f"planner:{spec.path.stem}")
    return {
        "facility_id": ids,
        "category_id": category_ids,
        "name": _names(table, spec, problems),
        "source": "planner",
        "matched_by": "planner",
        "capacity": capacity,
        "area_m2": area,
        "floor_area_m2": floor_area,
        "source_file": str(spec.path),
        "source_row": table.row,
        "given_crs": datum,
    }


def _labels_from_column(
    table: Table,
    column: str | None,
    default: str | None,
    spec: FileSpec,
    problems: Problems,
    *,
    labels: dict[str, str],
    unknown: Callable[[object], str],
    missing: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each record's cell looked up in ``labels``, else ``default``; ``True`` where it is bad.

    An unknown label is an error, ``unknown(cell)``; a blank cell is the error ``missing``
    when there is no default and ``missing`` is given."""
    n = len(table.frame)
    values = np.full(n, default, dtype=object)
    bad = np.zeros(n, bool)
    if column is None:
        return values, bad
    for i, text in enumerate(table.frame[column]):
        if pd.isna(text):
            if missing is not None and default is None:
                problems.error(spec, missing, **cell(table, i, column))
                bad[i] = True
            continue
        values[i] = labels.get(normalise(text))
        if values[i] is None:
            problems.error(spec, unknown(text), **cell(table, i, column))
            bad[i] = True
    return values, bad


def _kept_records(
    columns: dict[str, object], geometry: object, keep: np.ndarray
) -> gpd.GeoDataFrame:
    """The records to keep, as a WGS-84 GeoDataFrame numbered from 0."""
    gdf = gpd.GeoDataFrame(pd.DataFrame(columns), geometry=geometry, crs=4326)
    return gdf[keep].reset_index(drop=True)


def _unknown_category(value: object, labels: dict[str, str], standards: Standards) -> str:
    """The error for an unknown category: the closest known name, and all categories."""
    names = {c.id: c.name.zh for c in standards.categories.categories}
    close = _closest_label(normalise(value), list(labels))
    hint = (
        say("in_did_you_mean", label=close[0], name=names[labels[close[0]]], id=labels[close[0]])
        if close
        else ""
    )
    listed = say("in_list_sep").join(names.values())
    return say("in_unknown_category", value=value, hint=hint, names=listed)


def _closest_label(text: str, labels: list[str]) -> list[str]:
    """The known label closest to ``text`` (or none).

    A Chinese compound names its kind last: 幼儿园托班 is a 托班 (class for under-3s) run by a
    kindergarten, so a known label the text starts with is set aside and the rest matched
    first (托班 -> 托育), then the whole text."""
    starts = [label for label in labels if text.startswith(label) and len(label) < len(text)]
    rest = text[len(max(starts, key=len)) :] if starts else ""
    for part in (rest, text):
        close = difflib.get_close_matches(part, labels, n=1, cutoff=0.4) if part else []
        if close:
            return close
    return []


def _empty_facilities() -> gpd.GeoDataFrame:
    """The facilities of a file that cannot be read: none."""
    return gpd.GeoDataFrame(
        {
            "facility_id": [],
            "category_id": [],
            "name": [],
            "capacity": [],
            "area_m2": [],
            "floor_area_m2": [],
        },
        geometry=gpd.GeoSeries([], crs=4326),
    )


def check_datum(
    facilities: gpd.GeoDataFrame,
    distance_to_streets: Callable[[np.ndarray, np.ndarray], np.ndarray],
    osm_matches: Callable[[gpd.GeoDataFrame], int] | None = None,
    problems: Problems | None = None,
    min_points: int = 3,
) -> Problems:
    """Flag a file whose points fit the map better when read in another datum.

    GCJ-02 (Amap, Tencent) and BD-09 (Baidu) shift points 300-700 m in Chinese cities. Each
    file's coordinates, as written, are read in each datum and two fits are compared:

    - the median distance to the walking network (points placed at entrances or on streets
      sit on it in the right datum and off it in a wrong one);
    - ``osm_matches``: how many points have an OSM facility of the same category and a
      similar name nearby.

    A file that fits another datum clearly better is an error naming the datum: at least
    twice as many same-name OSM facilities (two or more); or, when no point matches an OSM
    facility by name, points a median over ``STREET_TEST_OFF_M`` off the streets that sit
    three times closer in the other datum. In dense street grids a shifted point often lands
    near another street, so the street test only catches clear cases; the name test needs
    OSM facilities of the file's categories.

    Parameters
    ----------
    facilities
        Planners' facilities as read, with ``source_file`` and ``given_crs``.
    distance_to_streets
        Metres from WGS-84 longitudes and latitudes to the nearest street.
    osm_matches
        How many of the facilities given have a same-name OSM facility nearby.
    problems
        Where the errors are collected (a new collection if not given).
    min_points
        Files with fewer facilities are not checked.

    Returns
    -------
    Problems
        ``problems``, with an error for each file that looks read in the wrong datum.
    """
    problems = problems if problems is not None else Problems()
    if facilities.empty or "given_crs" not in facilities:
        return problems
    for file, group in facilities.groupby("source_file"):
        datum = str(group["given_crs"].iloc[0]).lower()
        if len(group) < min_points or datum not in DATUMS:
            continue
        fits = _datum_fits(group, datum, distance_to_streets, osm_matches)
        better = _better_datum(fits, datum, len(group))
        if better is not None:
            problems.error(file, _wrong_datum(file, datum, *better))
    return problems


def _datum_fits(
    group: gpd.GeoDataFrame,
    datum: str,
    distance_to_streets: Callable[[np.ndarray, np.ndarray], np.ndarray],
    osm_matches: Callable[[gpd.GeoDataFrame], int] | None,
) -> dict[str, tuple[float, int]]:
    """Per datum, the median metres to the streets and the OSM name matches of points read in it."""
    raw = from_wgs84(group.geometry.x.to_numpy(), group.geometry.y.to_numpy(), datum)
    fits = {}
    for reading in DATUMS:
        lon, lat = to_wgs84(raw[0], raw[1], reading)
        moved = group.set_geometry(gpd.points_from_xy(lon, lat, crs=4326))
        fits[reading] = (
            float(np.median(distance_to_streets(lon, lat))),
            osm_matches(moved) if osm_matches is not None else 0,
        )
    return fits


def _better_datum(
    fits: dict[str, tuple[float, int]], datum: str, n_points: int
) -> tuple[str, str] | None:
    """The datum the points fit clearly better than ``datum``, and why; ``None`` if none."""
    given_m, given_n = fits[datum]
    others = {reading: fit for reading, fit in fits.items() if reading != datum}
    best = min(others, key=lambda k: (-others[k][1], others[k][0]))
    best_m, best_n = others[best]
    if best_n >= 2 and best_n >= 2 * given_n + 1:
        return best, say(
            "in_fit_by_names", matched=best_n, n=n_points, given=given_n, **_datums(best, datum)
        )
    if given_n == 0 and n_points >= STREET_TEST_MIN_POINTS:
        best = min(others, key=lambda k: others[k][0])
        best_m = others[best][0]
        if given_m > STREET_TEST_OFF_M and best_m * 3 < given_m:
            return best, say(
                "in_fit_by_streets", given_m=given_m, best_m=best_m, **_datums(best, datum)
            )
    return None


def _wrong_datum(file: object, datum: str, best: str, why: str) -> str:
    """The error for a file read in ``datum`` whose points fit ``best``, and why."""
    source = say(f"in_source_{best}")  # who publishes coordinates in it
    return say("in_wrong_datum", file=file, source=source, why=why, **_datums(best, datum))


def _datums(best: str, datum: str) -> dict[str, str]:
    """The datum read and the better one, as ids (gcj02) and upper case (GCJ02), for messages."""
    return {"best": best, "best_up": best.upper(), "datum": datum, "datum_up": datum.upper()}


def polygons_from_table(
    table: Table, spec: FileSpec, crs: str | None, problems: Problems, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 polygons of a vector file, invalid ones repaired (warning) or rejected (error).

    Parameters
    ----------
    table
        The file's features; a table without geometry is an error.
    spec, problems
        The file with its options, and where its errors and warnings are collected.
    crs
        ``gcj02`` or ``bd09`` for coordinates in those datums, when no ``crs`` option says
        (the file's own CRS is applied first).
    what
        What the polygons are, for the message when the file is a table: ``communities``,
        ``boundaries`` or ``districts``.

    Returns
    -------
    geometries : ndarray
        Each feature's polygon, in WGS-84 unless the whole file is unusable.
    bad : ndarray
        ``True`` for each feature with an error (all of them when the file is unusable).
    """
    n = len(table.frame)
    if table.geometry is None:
        problems.error(spec, say("in_need_polygons", what=say(f"in_what_{what}")))
        return np.full(n, None, dtype=object), np.ones(n, bool)
    if _metres_in_degrees_file(table.geometry, spec, problems):
        return table.geometry.to_numpy(), np.ones(n, bool)
    geoms = _polygons_in_wgs84(table.geometry, _vector_datum(table, spec, crs))
    return geoms, _check_polygons(geoms, table, spec, problems)


def _metres_in_degrees_file(geometry: gpd.GeoSeries, spec: FileSpec, problems: Problems) -> bool:
    """Report features in metres in a file whose CRS is in degrees; ``True`` if any."""
    if geometry.crs is None or not geometry.crs.is_geographic:
        return False
    far = np.array(
        [
            g is not None and not g.is_empty and max(map(abs, g.bounds)) > 180
            for g in geometry.to_numpy()
        ]
    )
    if not far.any():
        return False
    problems.error(spec, say("in_metres_in_degrees", crs=geometry.crs.to_string(), n=far.sum()))
    return True


def _polygons_in_wgs84(geometry: gpd.GeoSeries, datum: str) -> np.ndarray:
    """Geometries in WGS-84: by the file's own CRS, then out of GCJ-02/BD-09 if ``datum`` is."""
    geoms = _in_wgs84(geometry).to_numpy()
    if not _is_shifted(datum):
        return geoms
    return np.array(
        [
            None
            if g is None
            else shapely.transform(
                g, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], datum))
            )
            for g in geoms
        ],
        dtype=object,
    )


def _check_polygons(
    geoms: np.ndarray, table: Table, spec: FileSpec, problems: Problems
) -> np.ndarray:
    """Report missing, non-polygon and invalid geometries, repairing what can be; ``True`` there.

    Repaired polygons replace the invalid ones in ``geoms``."""
    bad = np.zeros(len(table.frame), bool)
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            problems.error(spec, say("in_no_geometry"), **cell(table, i))
            bad[i] = True
        elif g.geom_type not in ("Polygon", "MultiPolygon"):
            kind = (
                say(GEOMETRY_TYPES[g.geom_type]) if g.geom_type in GEOMETRY_TYPES else g.geom_type
            )
            problems.error(spec, say("in_not_polygon", kind=kind), **cell(table, i))
            bad[i] = True
        elif not g.is_valid:
            reason = _invalid_reason(g)
            fixed = _repaired(g)
            if fixed is None:
                message = say("in_polygon_unrepairable", reason=reason)
                problems.error(spec, message, **cell(table, i))
                bad[i] = True
            else:
                message = say("in_polygon_repaired", reason=reason)
                problems.warning(spec, message, **cell(table, i))
                geoms[i] = fixed
    return bad


# geometry types that are not polygons, said in the run's language
GEOMETRY_TYPES = {
    "Point": "in_geom_point",
    "MultiPoint": "in_geom_multipoint",
    "LineString": "in_geom_line",
    "MultiLineString": "in_geom_multiline",
    "LinearRing": "in_geom_ring",
    "GeometryCollection": "in_geom_collection",
}
# GEOS's reasons for an invalid polygon, said in the run's language (the place is kept)
GEOS_REASONS = {
    "Self-intersection": "in_geos_self_intersection",
    "Ring Self-intersection": "in_geos_ring_self_intersection",
    "Too few distinct points in geometry component": "in_geos_too_few_points",
    "Hole lies outside shell": "in_geos_hole_outside",
    "Holes are nested": "in_geos_nested_holes",
    "Interior is disconnected": "in_geos_interior_disconnected",
    "Nested shells": "in_geos_nested_shells",
    "Duplicate Rings": "in_geos_duplicate_rings",
    "Invalid Coordinate": "in_geos_invalid_coordinate",
    "Ring is not closed": "in_geos_ring_not_closed",
}


def _invalid_reason(polygon: BaseGeometry) -> str:
    """Why GEOS finds ``polygon`` invalid, e.g. ``Self-intersection[104.085 30.675]``."""
    reason = shapely.is_valid_reason(polygon)
    text, bracket, place = reason.partition("[")
    key = GEOS_REASONS.get(text.strip())
    return reason if key is None else f"{say(key)}{bracket}{place}"


def _repaired(polygon: BaseGeometry) -> BaseGeometry | None:
    """The polygonal part of an invalid polygon made valid; ``None`` if no area is left."""
    fixed = shapely.make_valid(polygon)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    fixed = shapely.union_all(parts) if parts else None
    if fixed is None or fixed.is_empty or fixed.area <= 0:
        return None
    return fixed


def read_communities(
    spec: FileSpec | str | Path,
    crs: str | None = None,
    problems: Problems | None = None,
) -> gpd.GeoDataFrame:
    """A planner's communities: polygons with official population, WGS-84.

    Parameters
    ----------
    spec
        A vector file of polygons with its options, e.g. ``社区.shp::population=常住人口``.
    crs
        ``gcj02`` or ``bd09`` for coordinates in those datums, when no ``crs`` option says.
    problems
        Where the file's errors and warnings are collected (a new collection if not given).

    Returns
    -------
    GeoDataFrame
        ``community_id``, ``name``, ``population`` and, where the file has them,
        ``households``, ``elderly`` (aged 60+) and ``children``; ``population_method`` is
        ``official``. Rows with errors are left out.

    Raises
    ------
    InputError
        For a bad file option, or a text file in neither UTF-8 nor GBK/GB18030.
    """
    spec = FileSpec.parse(spec)
    problems = problems if problems is not None else Problems()
    polygons = _read_polygons(spec, crs, problems, "communities")
    if polygons is None:
        return gpd.GeoDataFrame({"community_id": []}, geometry=gpd.GeoSeries([], crs=4326))
    table, geoms, bad = polygons
    population, groups = _community_counts(table, spec, problems)
    ids = _ids(table, spec, problems, spec.path.stem)
    columns = {
        "community_id": ids,
        "name": _names(table, spec, problems),
        "population": population,
        **groups,
        "population_method": "official",
        "population_estimated": False,
        "source_file": str(spec.path),
        "source_row": table.row,
    }
    gdf = _kept_records(columns, list(geoms), ~bad & ~np.isnan(population))
    _warn_overlaps(gdf, spec, problems, table.row_label)
    return gdf


def _read_polygons(
    spec: FileSpec, crs: str | None, problems: Problems, what: str
) -> tuple[Table, np.ndarray, np.ndarray] | None:
    """A vector file's records, WGS-84 polygons and ``True`` where bad; ``None`` if unreadable."""
    table = read_table(spec, problems)
    if table is None:
        return None
    geoms, bad = polygons_from_table(table, spec, crs, problems, what)
    return table, geoms, bad


def _community_counts(
    table: Table, spec: FileSpec, problems: Problems
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each community's population, and its households, elderly and children where given."""
    column = find_column(table, spec, "population", problems)
    if column is None:
        columns = _listing(list(table.frame.columns))
        problems.error(spec, say("in_no_population", columns=columns))
    population = numbers(table, column, spec, problems, required=True, what="a population")
    groups = {
        key: numbers(table, find_column(table, spec, key, problems), spec, problems)
        for key in ("households", "elderly", "children")
    }
    for key in ("elderly", "children"):
        column = find_column(table, spec, key, problems)
        for i in np.flatnonzero(groups[key] > population):
            message = say("in_exceeds_population", value=groups[key][i], population=population[i])
            problems.error(spec, message, **cell(table, i, column))
    return population, groups


def _warn_overlaps(gdf: gpd.GeoDataFrame, spec: FileSpec, problems: Problems, label: str) -> None:
    """Overlapping communities: residents of the shared part are placed twice."""
    if len(gdf) < 2:
        return
    metric = gdf.to_crs(gdf.estimate_utm_crs())
    left, right = shapely.STRtree(metric.geometry.values).query(
        metric.geometry.values, predicate="overlaps"
    )
    pairs = left < right
    for a, b in zip(left[pairs], right[pairs], strict=True):
        shared = metric.geometry.values[a].intersection(metric.geometry.values[b]).area
        smaller = min(metric.geometry.values[a].area, metric.geometry.values[b].area)
        if shared > 0.05 * smaller:
            other = at(label, int(gdf["source_row"].iloc[b]))
            problems.warning(
                spec,
                say("in_overlaps", other=other, area=shared, share=shared / smaller),
                row=int(gdf["source_row"].iloc[a]),
                row_label=label,
            )


def read_boundaries(
    spec: FileSpec | str | Path, crs: str | None = None, problems: Problems | None = None
) -> gpd.GeoDataFrame:
    """A planner's district, street (街道/乡镇) or village (行政村) boundaries, WGS-84.

    The level comes from a level column (区/街道/镇/村…) or the file option ``level=street``.

    Parameters
    ----------
    spec
        A vector file of polygons with its options, e.g. ``街道.shp::level=street``.
    crs
        ``gcj02`` or ``bd09`` for coordinates in those datums, when no ``crs`` option says.
    problems
        Where the file's errors and warnings are collected (a new collection if not given).

    Returns
    -------
    GeoDataFrame
        ``unit_id``, ``name``, ``level`` (``district``, ``street`` or ``village``) and
        ``population``
        (the official residents from a population column such as 常住人口, NaN without one;
        ``attrs["population_column"]`` names the column).

    Raises
    ------
    InputError
        For a bad file option, or a text file in neither UTF-8 nor GBK/GB18030.
    """
    spec = FileSpec.parse(spec)
    problems = problems if problems is not None else Problems()
    empty = gpd.GeoDataFrame(
        {"unit_id": [], "name": [], "level": [], "population": []}, geometry=[], crs=4326
    )
    polygons = _read_polygons(spec, crs, problems, "boundaries")
    if polygons is None:
        return empty
    table, geoms, bad = polygons
    levels = _boundary_levels(table, spec, problems)
    if levels is None:
        return empty
    level, bad_level = levels
    names = _names(table, spec, problems)
    if all(v is None for v in names):
        problems.warning(spec, say("in_no_names"))
    ids = _ids(table, spec, problems, spec.path.stem)
    pop_column = find_column(table, spec, "population", problems)
    population = numbers(table, pop_column, spec, problems, what="a population")
    columns = {"unit_id": ids, "name": names, "level": level, "population": population}
    units = _kept_records(columns, list(geoms), ~bad & ~bad_level & pd.notna(level))
    units.attrs["population_column"] = pop_column
    return units


def _boundary_levels(
    table: Table, spec: FileSpec, problems: Problems
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each unit's level (its cell, else the file option) and ``True`` where it is bad.

    ``None`` (with an error) when the option names no level or nothing gives one."""
    by_value = {normalise(v): level for level, values in LEVEL_VALUES.items() for v in values}
    column = find_column(table, spec, "level", problems)
    default = option_value(table, spec, "level")
    if default is not None and normalise(default) not in by_value:
        problems.error(spec, say("in_bad_level_option", value=default))
        return None
    if column is None and default is None:
        problems.error(spec, say("in_no_level"))
        return None
    levels, bad = _labels_from_column(
        table,
        column,
        by_value.get(normalise(default)) if default else None,
        spec,
        problems,
        labels=by_value,
        unknown=lambda value: say("in_unknown_level", value=value),
    )
    for i in np.flatnonzero(levels == "community"):
        problems.error(spec, say("in_community_level"), **cell(table, i))
        bad[i] = True
    return levels, bad


def read_sites(
    path: str | Path | FileSpec, crs: str | None = None, strict: bool = False
) -> gpd.GeoDataFrame:
    """Candidate or proposed sites (points, optional names and ids) from a planner's file.

    Parameters
    ----------
    path
        A CSV, XLSX or vector file with its options, e.g. ``候选点.csv::crs=gcj02``.
    crs
        The datum or CRS of coordinates when neither an option nor a column name says;
        ``None``: not stated (an error for a table of points inside China).
    strict
        Rows without coordinates are errors, not skipped with a warning.

    Returns
    -------
    GeoDataFrame
        WGS-84 points with ``site_id`` (the file's id column, else ``None``), ``name`` and
        ``given_crs`` (the datum the coordinates were read in); ``attrs["warnings"]`` lists
        the file's warnings.

    Raises
    ------
    InputError
        Listing every problem of the file (same checks as facility files).
    """
    spec = FileSpec.parse(path)
    problems = Problems(strict=strict)
    table = read_table(spec, problems)
    problems.raise_errors()
    table = without_coordinates(table, spec, problems)
    lon, lat, bad, datum = points_from_table(table, spec, crs, problems)
    problems.raise_errors()
    id_column = find_column(table, spec, "id", problems)
    ids = None if id_column is None else table.frame[id_column].to_numpy(dtype=object)
    sites = gpd.GeoDataFrame(
        {"site_id": ids, "name": _names(table, spec, problems), "given_crs": datum},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )[~bad].reset_index(drop=True)
    sites.attrs["warnings"] = [str(p) for p in problems.warnings]
    return sites
