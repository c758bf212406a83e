"""A scenario's before/after tables (CSV, XLSX) and its offline map of the change."""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from circles.messages import label
from circles.planning.scenario import ScenarioBase, ScenarioResult
from circles.present.leaflet import TextLayerControl, TextTooltip, base_map, fixed_html, save_map
from circles.present.maps import add_network, add_points
from circles.present.tables import (
    HEADERS,
    atomic_write,
    sheet_name,
    write_csv,
    write_sheets,
)

COMPARE_HEADERS = {
    "value_before": ("现状值", "value before"),
    "value_after": ("规划后值", "value after"),
    "change": ("变化", "change"),
    "status_before": ("现状结果", "result before"),
    "status_after": ("规划后结果", "result after"),
    "shortfall_before": ("现状缺口", "shortfall before"),
    "shortfall_after": ("规划后缺口", "shortfall after"),
    "median_time_min_before": ("现状步行时间中位数(分钟)", "median time before (min)"),
    "median_time_min_after": ("规划后步行时间中位数(分钟)", "median time after (min)"),
    "worst_time_min_before": ("现状最长步行时间(分钟)", "worst time before (min)"),
    "worst_time_min_after": ("规划后最长步行时间(分钟)", "worst time after (min)"),
    "facilities_before": ("现状设施数", "facilities before"),
    "facilities_after": ("规划后设施数", "facilities after"),
    "action": ("操作", "action"),
    "facility_id": ("设施编号", "facility id"),
}
ACTION_NAMES = {"add": ("新增", "add"), "close": ("关闭", "close"), "move": ("迁移", "move")}
MEASURE_DIGITS = {"value": 4, "shortfall": 1, "median_time_min": 1, "worst_time_min": 1}
DIGITS = {"population": 0, "change": 4} | {
    f"{measure}_{when}": digits
    for measure, digits in MEASURE_DIGITS.items()
    for when in ("before", "after")
}
SHEETS = {"district": ("区", "district"), "street": ("街道", "streets")}
CHANGE_COLOURS = {"gained": "#1a9850", "lost": "#d73027"}
MAP_TEXT = {
    "gained": ("新进入步行范围的居民点", "Homes newly within reach"),
    "lost": ("不再在步行范围内的居民点", "Homes no longer within reach"),
    "added": ("新增/迁入设施", "Added or moved-to sites"),
    "closed": ("关闭/迁出设施", "Closed or moved-from facilities"),
    "title": ("规划方案对比", "Plan compared with today"),
}
COMPARE_FILES = ("compare.csv", "compare.xlsx", "compare_map.html")


def compare_table(base: ScenarioBase, result: ScenarioResult, lang: str) -> pd.DataFrame:
    """The before/after table with rule and category names and values in ``lang``."""
    std, i = base.saved.standards, 0 if lang == "zh" else 1
    table = result.table.copy()
    rules = {r.id: r.name(lang) for r in std.rules}
    names = {c.id: c.name(lang) for c in std.categories.categories}
    table.insert(table.columns.get_loc("rule_id") + 1, "rule_name", table["rule_id"].map(rules))
    at = table.columns.get_loc("category_id") + 1
    table.insert(at, "category_name", table["category_id"].map(names))
    if not base.official_communities:  # OSM residential compounds, not 社区
        table["unit_level"] = table["unit_level"].replace("community", "compound")
    for column in ("unit_level", "kind", "status_before", "status_after", "shortfall_unit"):
        table[column] = table[column].map(lambda v: label(v, lang))
    table["basis"] = table["basis"].map(lambda v: label(v, lang))
    for column, digits in DIGITS.items():
        table[column] = pd.to_numeric(table[column], errors="coerce").round(digits)
    headers = {k: v[i] for k, v in (HEADERS | COMPARE_HEADERS).items()}
    return table.rename(columns=headers)


def actions_table(result: ScenarioResult, lang: str) -> pd.DataFrame:
    """The plan's actions as judged: kind, category, facility, name and position."""
    i = 0 if lang == "zh" else 1
    rows = [
        {
            "rank": n + 1,
            "action": ACTION_NAMES[a.kind][i],
            "category_id": a.category,
            "facility_id": a.facility_id,
            "name": a.name,
            "lon": a.lon,
            "lat": a.lat,
        }
        for n, a in enumerate(result.actions)
    ]
    frame = pd.DataFrame(rows)
    return frame.rename(columns={k: v[i] for k, v in (HEADERS | COMPARE_HEADERS).items()})


def write_comparison(base: ScenarioBase, result: ScenarioResult, folder: Path, lang: str) -> None:
    """``compare.csv``, ``compare.xlsx`` (district, streets, communities and the plan) and
    ``compare_map.html`` (offline) into ``folder``."""
    i = 0 if lang == "zh" else 1
    table = compare_table(base, result, lang)
    write_csv(table, folder / "compare.csv")
    level = result.table["unit_level"].to_numpy()
    unit = "community" if base.official_communities else "compound"
    sheets = {name[i]: table[level == key] for key, name in SHEETS.items()}
    sheets[label(unit, lang)] = table[level == "community"]
    sheets[("方案", "plan")[i]] = actions_table(result, lang)
    named: dict[str, pd.DataFrame] = {}
    for name, frame in sheets.items():
        if len(frame):
            named[sheet_name(name, named)] = frame
    status = COMPARE_HEADERS["status_after"][i]
    failing = label("fail", lang)
    atomic_write(folder / "compare.xlsx", lambda tmp: write_sheets(tmp, named, status, failing))
    save_map(compare_map(base, result, lang), folder / "compare_map.html")


def compare_map(base: ScenarioBase, result: ScenarioResult, lang: str) -> folium.Map:
    """An offline map: the walking network, homes that gain or lose walking access under
    the first access rule of each changed category, added and closed sites."""
    i, saved = 0 if lang == "zh" else 1, base.saved
    fmap = base_map("none")
    minx, miny, maxx, maxy = (
        gpd.GeoSeries([saved.study_area_m], crs=saved.crs).to_crs(4326).total_bounds
    )
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    add_network(fmap, saved)
    gained, lost = _changed_homes(base, result)
    homes = base.demand.to_crs(4326)
    for key, rows in (("gained", gained), ("lost", lost)):
        if len(rows):
            add_points(fmap, homes.iloc[rows], MAP_TEXT[key][i], CHANGE_COLOURS[key], 2.5, "none")
    closed = base.facilities.iloc[result.closed].to_crs(4326)
    added = result.added.to_crs(4326)
    _add_moves(fmap, closed, added)
    names = {c.id: c.name(lang) for c in saved.standards.categories.categories}
    _add_sites(fmap, closed, MAP_TEXT["closed"][i], CHANGE_COLOURS["lost"], names)
    _add_sites(fmap, added, MAP_TEXT["added"][i], CHANGE_COLOURS["gained"], names)
    fixed_html(fmap, f"<b>{html.escape(MAP_TEXT['title'][i])}</b>", "top:8px;left:50px")
    TextLayerControl(collapsed=False).add_to(fmap)
    return fmap


def _changed_homes(base: ScenarioBase, result: ScenarioResult) -> tuple[np.ndarray, np.ndarray]:
    """Demand points newly within / newly beyond the first access rule of any changed
    category."""
    std = base.saved.standards
    n = len(base.demand)
    gained, lost = np.zeros(n, bool), np.zeros(n, bool)
    for cat, (before, after) in result.access.items():
        rules = std.access_rules(cat)
        if not rules:
            continue
        threshold = std.threshold_m(rules[0])
        old = np.nan_to_num(before.point_dist_m, nan=np.inf) <= threshold
        new = np.nan_to_num(after.point_dist_m, nan=np.inf) <= threshold
        gained |= new & ~old
        lost |= old & ~new
    return np.flatnonzero(gained), np.flatnonzero(lost)


def _add_moves(fmap: folium.Map, closed: gpd.GeoDataFrame, added: gpd.GeoDataFrame) -> None:
    """A dashed line from each moved facility's old place to its new one."""
    old = closed.set_index("facility_id").geometry
    for fid, new in zip(added["facility_id"], added.geometry, strict=True):
        if fid in old.index:
            line = [[old[fid].y, old[fid].x], [new.y, new.x]]
            folium.PolyLine(line, color="#222", weight=2, dash_array="6 4").add_to(fmap)


def _add_sites(
    fmap: folium.Map, points: gpd.GeoDataFrame, name: str, colour: str, names: dict[str, str]
) -> None:
    """Facilities as large circles of one colour, named on hover (category name, own name,
    id), in a layer of their own."""
    if points.empty:
        return
    layer = folium.FeatureGroup(name)
    for row in points.itertuples():
        category = names.get(row.category_id, row.category_id)
        text = " ".join(str(v) for v in (category, row.name, row.facility_id) if isinstance(v, str))
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=8,
            color="#222",
            weight=2,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=TextTooltip(text),
        ).add_to(layer)
    layer.add_to(fmap)
