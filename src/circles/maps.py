"""Folium HTML maps drawn from results (computes nothing new)."""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd

from circles.report import atomic_write

ATTRIBUTION = "© OpenStreetMap contributors"
RING_COLOURS = {5: "#1a9850", 10: "#fee08b", 15: "#fdae61"}
TEXT = {
    "sites": ("选址", "Sites"),
    "areas": ("步行服务范围", "Walking service areas"),
    "homes": ("新覆盖居民点", "Newly covered homes"),
    "uncovered": ("仍未覆盖居民点", "Still uncovered homes"),
    "existing": ("现有设施", "Existing facilities"),
    "minutes": ("分钟", "min"),
}


def _t(key: str, lang: str) -> str:
    return TEXT[key][0 if lang == "zh" else 1]


def sites_map(
    sites: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    title: str,
    lang: str = "zh",
    uncovered: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """A map of proposed sites, their 5/10/15-minute service areas and the homes they reach.

    Parameters
    ----------
    sites
        Points with ``rank``, ``name`` and score columns (WGS-84).
    areas
        Service-area polygons with ``rank`` and ``minutes``.
    homes, uncovered
        Demand points newly covered / still uncovered.
    existing
        Existing facilities of the category.
    """
    bounds = sites.total_bounds if len(sites) else areas.total_bounds
    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", attr=ATTRIBUTION).add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    style = "position:absolute;z-index:1000;left:60px;top:4px;background:white;padding:2px 6px"
    title_html = f'<h4 style="{style}">{html.escape(title)}</h4>'
    fmap.get_root().html.add_child(folium.Element(title_html))

    ring_layer = folium.FeatureGroup(_t("areas", lang))
    for minutes in sorted(areas["minutes"].unique(), reverse=True):
        ring = areas[areas["minutes"] == minutes]
        colour = RING_COLOURS.get(int(minutes), "#91bfdb")
        folium.GeoJson(
            ring[["rank", "minutes", "geometry"]].to_json(),
            name=f"{minutes} {_t('minutes', lang)}",
            style_function=lambda _, c=colour: {
                "color": c,
                "fillColor": c,
                "weight": 1,
                "fillOpacity": 0.25,
            },
            tooltip=folium.GeoJsonTooltip(["rank", "minutes"]),
        ).add_to(ring_layer)
    ring_layer.add_to(fmap)

    for key, frame, colour in (("uncovered", uncovered, "#d73027"), ("homes", homes, "#4575b4")):
        if frame is None or frame.empty:
            continue
        layer = folium.FeatureGroup(_t(key, lang))
        for point in frame.geometry:
            folium.CircleMarker(
                [point.y, point.x], radius=2, color=colour, fill=True, weight=0, fill_opacity=0.8
            ).add_to(layer)
        layer.add_to(fmap)

    if not existing.empty:
        layer = folium.FeatureGroup(_t("existing", lang))
        for row in existing.itertuples():
            folium.Marker(
                [row.geometry.y, row.geometry.x],
                tooltip=str(row.name or ""),
                icon=folium.Icon(color="gray", icon="home"),
            ).add_to(layer)
        layer.add_to(fmap)

    layer = folium.FeatureGroup(_t("sites", lang))
    fields = [c for c in sites.columns if c != "geometry"]
    for _, row in sites.iterrows():
        popup = "<br>".join(f"{html.escape(str(f))}: {html.escape(str(row[f]))}" for f in fields)
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            popup=folium.Popup(popup, max_width=320),
            tooltip=f"#{row['rank']}",
            icon=folium.Icon(color="red", icon="star"),
        ).add_to(layer)
    layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def save_map(fmap: folium.Map, path: Path) -> None:
    """Write a map's HTML atomically."""
    atomic_write(path, lambda tmp: fmap.save(str(tmp)))
