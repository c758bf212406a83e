"""Exports for desktop GIS and Google Earth: Shapefiles (UTF-8, or GBK for older desktop GIS)
and KML of the communities, the facilities and the gaps (each community's result under each
category's main access rule); coordinates in the datums the planner's files were in."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.errors import InputError
from circles.messages import say
from circles.present.rankings import RankingLayers, rankings
from circles.sources.coords import datum_columns, shifted_datums

if TYPE_CHECKING:
    from circles.result import Analysis

# the residents a ranking counts, as the rule counts them
COUNTED = {"total": ("全部居民", "all residents"), "elderly": ("60岁以上老人", "aged 60+"),
           "children": ("儿童", "children")}  # fmt: skip
FORMATS = {"shp": "UTF-8", "shp-gbk": "GBK", "kml": None}  # format -> Shapefile encoding
EXPORT_FOLDER = "exports"
# field names fit a DBF field (10 bytes); KML takes the headers in the analysis language
FIELDS = {
    "unit_id": ("编号", "id"),
    "name": ("名称", "name"),
    "pop": ("人口", "population"),
    "elderly": ("60岁以上人口", "aged 60+"),
    "children": ("儿童人口", "children"),
    "category": ("设施类别编号", "category id"),
    "cat_name": ("设施类别", "category"),
    "source": ("数据来源", "source"),
    "capacity": ("容量", "capacity"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "gcj02_lon": ("经度(GCJ-02)", "lon (GCJ-02)"),
    "gcj02_lat": ("纬度(GCJ-02)", "lat (GCJ-02)"),
    "bd09_lon": ("经度(BD-09)", "lon (BD-09)"),
    "bd09_lat": ("纬度(BD-09)", "lat (BD-09)"),
    "rule": ("规则", "rule"),
    "counted": ("计数人群", "counted"),
    "uncovered": ("未覆盖人数", "beyond reach"),
    "share": ("可达人口占比", "share within reach"),
    "median_min": ("步行时间中位数(分钟)", "median walk (min)"),
    "worst_min": ("最长步行时间(分钟)", "worst walk (min)"),
    "nearest": ("最近设施", "nearest facility"),
    "rank": ("排名", "rank"),
}


def parse_formats(values: Iterable[str]) -> list[str]:
    """``--format`` values (repeated or comma-separated) as a list of known formats.

    Raises
    ------
    InputError
        For an unknown format.
    """
    formats = [v.strip().lower() for text in values for v in text.split(",") if v.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        known, listed = ", ".join(FORMATS), "、".join(FORMATS)
        msg = say("out_unknown_format", formats=", ".join(unknown), known=known, listed=listed)
        raise InputError(msg)
    return list(dict.fromkeys(formats))


def export_layers(analysis: Analysis) -> dict[str, gpd.GeoDataFrame]:
    """The exported layers (WGS-84) with short field names: ``communities``, ``facilities``
    and ``gaps`` (one feature per community and category with data and an access rule: its
    counted residents, those beyond reach, share within, walks, nearest facility, rank)."""
    comm = analysis.communities
    communities = gpd.GeoDataFrame(
        {
            "unit_id": comm["community_id"],
            "name": comm["name"],
            "pop": comm["population"].round(0),
            **{k: comm[k].round(0) for k in ("elderly", "children") if k in comm},
        },
        geometry=comm.geometry.values,
        crs=4326,
    )
    return {
        "communities": communities,
        "facilities": _facility_layer(analysis),
        "gaps": _gaps_layer(analysis, communities),
    }


def with_input_datums(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Facilities with their coordinates also in each GCJ-02/BD-09 datum a planner's file was
    given in (``gcj02_lon``/``gcj02_lat``, ``bd09_lon``/``bd09_lat``), for pasting into Amap
    or Baidu; as they are when every input was WGS-84."""
    datums = shifted_datums(facilities["given_crs"]) if "given_crs" in facilities else []
    if not datums or facilities.empty:
        return facilities
    points = facilities.geometry.representative_point()
    return facilities.assign(**datum_columns(points.x, points.y, datums))


def _facility_layer(analysis: Analysis) -> gpd.GeoDataFrame:
    """Facilities as points, with category names and GCJ-02/BD-09 coordinates if given so."""
    fac = with_input_datums(analysis.facilities)
    points = fac.geometry.representative_point()
    names = {c.id: c.name(analysis.lang) for c in analysis.standards.categories.categories}
    datums = [c for c in ("gcj02_lon", "gcj02_lat", "bd09_lon", "bd09_lat") if c in fac]
    frame = {
        "unit_id": fac["facility_id"],
        "category": fac["category_id"],
        "cat_name": fac["category_id"].map(names),
        "name": fac["name"],
        "source": fac["source"],
        "capacity": pd.to_numeric(fac["capacity"], errors="coerce"),
        "lon": points.x.round(6),
        "lat": points.y.round(6),
        **{c: fac[c] for c in datums},
    }
    return gpd.GeoDataFrame(frame, geometry=points.values, crs=4326)


def _gaps_layer(analysis: Analysis, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each community's ranking under each category's main access rule, as polygons."""
    frames, i, layers = [], 0 if analysis.lang == "zh" else 1, RankingLayers.of(analysis)
    for cat in analysis.summary["categories"]:
        rule = analysis.standards.main_access_rule(cat["category_id"])
        if cat["data"] == "no_data" or rule is None:
            continue
        ranked = rankings(analysis, cat["category_id"], layers=layers)
        frames.append(
            pd.DataFrame(
                {
                    "unit_id": ranked["unit_id"],
                    "name": ranked["unit_name"],
                    "category": cat["category_id"],
                    "cat_name": cat[f"name_{analysis.lang}"],
                    "rule": rule.id,
                    "counted": ranked["counted"].map(lambda c: COUNTED[c][i]),
                    "pop": ranked["population"].round(0),
                    "uncovered": ranked["uncovered"].round(0),
                    "share": ranked["share"].round(4),
                    "median_min": _finite(ranked["median_time_min"]),
                    "worst_min": _finite(ranked["worst_time_min"]),
                    "nearest": ranked["nearest_facility"],
                    "rank": ranked["rank"],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"unit_id": []})
    shapes = communities.set_index("unit_id").geometry
    return gpd.GeoDataFrame(table, geometry=shapes.reindex(table["unit_id"]).values, crs=4326)


def _finite(minutes: pd.Series) -> pd.Series:
    """Walking minutes rounded, beyond the search limit (``inf``) as blank."""
    values = pd.to_numeric(minutes, errors="coerce")
    return values.where(np.isfinite(values)).round(1)


def write_exports(analysis: Analysis, folder: Path, formats: Iterable[str]) -> list[Path]:
    """Write the export layers into ``folder/exports`` in each format: ``<layer>.shp`` (with
    a ``.cpg`` naming its encoding; ``shp-gbk`` writes ``<layer>_gbk.shp`` in GBK, characters
    GBK lacks as ``?``) and ``<layer>.kml`` (fields named in the analysis language)."""
    formats = list(formats)
    if not formats:
        return []
    out = folder / EXPORT_FOLDER
    out.mkdir(exist_ok=True)
    i = 0 if analysis.lang == "zh" else 1
    written = []
    for layer, gdf in export_layers(analysis).items():
        for fmt in formats:
            if fmt == "kml":
                path = out / f"{layer}.kml"
                kml = gdf.assign(Name=_placemark_names(gdf))
                kml = kml.rename(columns={k: v[i] for k, v in FIELDS.items()})
                kml.to_file(path, driver="KML", engine="pyogrio")
            else:
                encoding = FORMATS[fmt]
                path = out / f"{layer}{'_gbk' if encoding == 'GBK' else ''}.shp"
                data = _encodable(gdf, encoding)
                data.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding)
            written.append(path)
    return written


def _placemark_names(gdf: gpd.GeoDataFrame) -> pd.Series:
    """What a KML viewer labels each feature with: its name (else id), and its category for
    the gaps (a community appears once per category)."""
    names = gdf["name"].where(gdf["name"].notna(), gdf["unit_id"]).astype(str)
    return names + " · " + gdf["cat_name"].astype(str) if "rule" in gdf else names


def _encodable(gdf: gpd.GeoDataFrame, encoding: str) -> gpd.GeoDataFrame:
    """The layer with text the encoding lacks replaced by ``?`` (GBK lacks some names)."""
    if encoding.upper() == "UTF-8":
        return gdf
    out = gdf.copy()
    for column in out.columns.drop(out.geometry.name):
        if out[column].dtype == object:
            out[column] = out[column].map(
                lambda v: (
                    v.encode(encoding, "replace").decode(encoding) if isinstance(v, str) else v
                )
            )
    return out
