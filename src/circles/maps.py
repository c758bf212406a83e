"""Folium HTML maps drawn from saved results, online (tiles) or offline (self-contained)."""

from __future__ import annotations

import base64
import html
import json
import re
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from circles.errors import InputError
from circles.map_style import (
    ATTRIBUTION,
    BEYOND_COLOUR,
    CATEGORY_COLOURS,
    RING_COLOURS,
    STATUS_COLOURS,
    TIME_BINS,
    category_rules,
    community_status,
    tr,
)
from circles.report import atomic_write
from circles.siting import access_rules, service_areas, service_speed
from circles.store import SavedAnalysis

# ---------------------------------------------------------------------------------------------
# offline: Leaflet embedded from an installed package, no other script or style
# ---------------------------------------------------------------------------------------------


def _leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS (images inlined) from the installed ``django-js-lib-leaflet`` wheel."""
    folder = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (folder / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    css = re.sub(r"url\(images/([\w-]+\.png)\)", inline, css)
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    return js, css


def _new_map(offline: bool) -> folium.Map:
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    if offline:
        fmap.default_js, fmap.default_css = [], []
        js, css = _leaflet_assets()
        fmap.get_root().header.add_child(folium.Element(f"<style>{css}</style>"), index=0)
        fmap.get_root().header.add_child(folium.Element(f"<script>{js}</script>"), index=1)
        fmap.add_child(Attribution(ATTRIBUTION))
    else:
        folium.TileLayer("OpenStreetMap", attr=ATTRIBUTION).add_to(fmap)
        fmap.add_child(Attribution(""))
    return fmap


class PlainPopup(MacroElement):
    """A popup bound with Leaflet alone (folium's Popup needs jQuery, absent offline)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }}, {maxWidth: 320});"
        "{% endmacro %}"
    )

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "PlainPopup"
        self.html = html_text


class Attribution(MacroElement):
    """Credit in Leaflet's attribution control (no tile layer carries it when offline)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');"
        "{% if this.text %}{{ this._parent.get_name() }}.attributionControl"
        ".addAttribution({{ this.text|tojson }});{% endif %}"
        "{% endmacro %}"
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


def _fixed_html(fmap: folium.Map, body: str, where: str) -> None:
    style = f"position:fixed;{where};z-index:1000;background:rgba(255,255,255,0.92);"
    style += "padding:6px 8px;font:12px/1.4 sans-serif;border-radius:4px;box-shadow:0 0 4px #888"
    fmap.get_root().html.add_child(folium.Element(f'<div style="{style}">{body}</div>'))


def _geojson(gdf: gpd.GeoDataFrame, precision: float = 1e-6) -> dict:
    """GeoJSON with coordinates rounded (about 0.1 m at 1e-6 degrees)."""
    gdf = gdf.set_geometry(shapely.set_precision(gdf.geometry.values, precision))
    return json.loads(gdf[~gdf.is_empty].to_json(na="null", drop_id=True))


# ---------------------------------------------------------------------------------------------
# district gap map
# ---------------------------------------------------------------------------------------------


def district_map(
    saved: SavedAnalysis,
    categories: list[str],
    offline: bool,
    lang: str = "zh",
) -> tuple[folium.Map, dict[str, int]]:
    """A district's gap map: one community layer per category, service areas, facilities,
    demand points shaded by walking time to the first category.

    Returns
    -------
    map, counts
        The map and the number of features drawn per layer kind (for checks).
    """
    std = saved.standards
    summary = saved.summary
    communities = saved.layer("communities")
    facilities = saved.layer("facilities")
    demand = saved.layer("demand_points")
    metric = communities.to_crs(saved.crs)
    display = communities.set_geometry(
        gpd.GeoSeries(metric.simplify(2.0, preserve_topology=True), crs=saved.crs).to_crs(4326)
    )
    fmap = _new_map(offline)
    minx, miny, maxx, maxy = gpd.GeoSeries([saved.area_m], crs=saved.crs).to_crs(4326).total_bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    counts = {
        "communities": 0,
        "service_areas": 0,
        "facilities": 0,
        "demand_points": 0,
        "network": 0,
    }

    if offline:  # the walking network as a light basemap
        edges = saved.layer("network_edges").to_crs(saved.crs)
        merged = shapely.line_merge(shapely.union_all(edges.geometry.values))
        lines = gpd.GeoDataFrame(geometry=list(getattr(merged, "geoms", [merged])), crs=saved.crs)
        lines = lines.set_geometry(lines.simplify(3.0)).to_crs(4326)
        network = _geojson(lines, 1e-5)
        counts["network"] = len(network["features"])
        folium.GeoJson(
            network,
            name=tr("network", lang),
            control=False,
            style_function=lambda _: {
                "color": "#9e9e9e",
                "weight": 1,
                "opacity": 0.6,
                "className": "circles-network",
                "interactive": False,
            },
        ).add_to(fmap)

    for i, cat_id in enumerate(categories):
        cat = std.category(cat_id)
        rules = category_rules(std, cat_id)
        status = community_status(communities, [r.id for r in rules])
        layer = display[["name", "population", "population_estimated", "geometry"]].copy()
        layer["status"] = status.map(lambda s: tr(s, lang))
        layer["colour"] = status.map(STATUS_COLOURS)
        for rule in rules:
            shortfall = f"{rule.name(lang)} · {tr('shortfall', lang)}"
            for what, label in (("value", rule.name(lang)), ("shortfall", shortfall)):
                col = f"{rule.id}.{what}"
                if col in communities:
                    layer[label] = pd.to_numeric(communities[col], errors="coerce").round(3)
        layer["name"] = layer["name"].fillna(tr("unknown", lang))
        fields = [c for c in layer.columns if c not in ("geometry", "colour")]
        folium.GeoJson(
            _geojson(layer),
            name=f"{cat.symbol} {cat.name(lang)}",
            show=i == 0,
            style_function=lambda f: {
                "color": "#555",
                "weight": 0.6,
                "fillOpacity": 0.55,
                "fillColor": f["properties"]["colour"],
                "className": "circles-community",
            },
            tooltip=folium.GeoJsonTooltip(fields),
        ).add_to(fmap)
        counts["communities"] += len(layer)

        rule_access = std.access_rules(cat_id)
        dist = saved.node_dist(cat_id)
        if np.isfinite(dist).any():
            profile = next(
                (r.threshold.profile for r in rule_access if r.threshold.profile), "adult"
            )
            rings = service_areas(saved, dist, std.profiles[profile].speed_m_s)
            rings = rings.to_crs(saved.crs)
            rings = rings.set_geometry(rings.simplify(3.0, preserve_topology=True)).to_crs(4326)
            group = folium.FeatureGroup(f"{cat.name(lang)} · {tr('areas', lang)}", show=i == 0)
            for ring in rings.sort_values("minutes", ascending=False).itertuples():
                colour = RING_COLOURS[int(ring.minutes)]
                folium.GeoJson(
                    _geojson(
                        gpd.GeoDataFrame(
                            {"minutes": [ring.minutes]}, geometry=[ring.geometry], crs=4326
                        )
                    ),
                    style_function=lambda _, c=colour: {
                        "color": c,
                        "fillColor": c,
                        "weight": 1,
                        "fillOpacity": 0.2,
                        "className": "circles-service-area",
                    },
                    tooltip=f"{ring.minutes} {tr('minutes', lang)}",
                ).add_to(group)
                counts["service_areas"] += 1
            group.add_to(fmap)

        fac = facilities[facilities["category_id"] == cat_id]
        if len(fac):
            group = folium.FeatureGroup(f"{cat.name(lang)} · {tr('facilities', lang)}", show=i == 0)
            colour = CATEGORY_COLOURS[std.category_ids.index(cat_id) % len(CATEGORY_COLOURS)]
            for row in fac.itertuples():
                popup = "<br>".join(
                    [
                        f"<b>{html.escape(str(row.name or tr('unknown', lang)))}</b>",
                        f"{tr('category', lang)}: {html.escape(cat.name(lang))}",
                        f"{tr('source', lang)}: {row.source} ({row.matched_by})",
                        f"{tr('capacity', lang)}: "
                        + ("—" if pd.isna(row.capacity) else f"{row.capacity:g}"),
                    ]
                )
                icon = folium.DivIcon(
                    html=f'<div style="background:{colour};color:#fff;border:1px solid #fff;'
                    f"border-radius:50%;width:18px;height:18px;font:12px/18px sans-serif;"
                    f'text-align:center">{html.escape(cat.symbol)}</div>',
                    icon_size=(18, 18),
                    icon_anchor=(9, 9),
                    class_name="circles-facility",
                )
                marker = folium.Marker([row.geometry.y, row.geometry.x], icon=icon)
                marker.add_child(PlainPopup(popup))
                marker.add_to(group)
                counts["facilities"] += 1
            group.add_to(fmap)

    # demand points shaded by walking time to the first category
    first = categories[0]
    speed = std.profiles[
        next((r.threshold.profile for r in std.access_rules(first) if r.threshold.profile), "adult")
    ].speed_m_s
    minutes = pd.to_numeric(demand[f"dist_m.{first}"], errors="coerce") / speed / 60
    points = demand[["population", "geometry"]].copy()
    points["minutes"] = minutes.round(1)
    points["colour"] = BEYOND_COLOUR
    for limit, colour in reversed(TIME_BINS):
        points.loc[minutes <= limit, "colour"] = colour
    folium.GeoJson(
        _geojson(points),
        name=f"{tr('walk_time', lang)} · {std.category(first).name(lang)}",
        marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#000",
            "className": "circles-demand",
        },
        tooltip=folium.GeoJsonTooltip(["minutes", "population"]),
    ).add_to(fmap)
    counts["demand_points"] = len(points)

    folium.LayerControl(collapsed=False).add_to(fmap)
    title = (
        f"{html.escape(summary['district']['name'])} · {html.escape(std.name(lang))} · "
        f"{tr('data_date', lang)}: {summary['input']['data_date'] or tr('unknown', lang)}"
    )
    _fixed_html(fmap, f"<b>{title}</b>", "top:8px;left:50px")
    _fixed_html(fmap, _legend(std.category(first).name(lang), lang), "bottom:70px;left:8px")
    return fmap, counts


def _legend(category_name: str, lang: str) -> str:
    def swatch(colour: str, text: str, round_: bool = False) -> str:
        radius = "50%" if round_ else "2px"
        box = f"display:inline-block;width:12px;height:12px;border-radius:{radius};margin-right:4px"
        return f'<div><span style="{box};background:{colour}"></span>{text}</div>'

    parts = [f"<b>{tr('communities', lang)}</b>"]
    parts += [swatch(STATUS_COLOURS[s], tr(s, lang)) for s in ("pass", "fail", "no_data")]
    parts.append(f"<b>{tr('areas', lang)}</b>")
    parts += [swatch(c, f"≤ {m} {tr('minutes', lang)}") for m, c in RING_COLOURS.items()]
    parts.append(f"<b>{tr('walk_time', lang)} · {html.escape(category_name)}</b>")
    parts += [swatch(c, f"≤ {m} {tr('minutes', lang)}", True) for m, c in TIME_BINS]
    parts.append(swatch(BEYOND_COLOUR, tr("beyond", lang), True))
    return "".join(parts)


def write_district_maps(
    saved: SavedAnalysis,
    out: Path,
    district: str = "all",
    category: str = "all",
    offline: bool = False,
    lang: str = "zh",
) -> tuple[list[Path], dict[str, dict[str, int]]]:
    """Write one HTML map per district and an ``index.html`` linking them.

    Raises
    ------
    InputError
        Unknown district or category.
    """
    summary = saved.summary
    districts = [summary["district"]]
    if district != "all":
        districts = [d for d in districts if district in (d["id"], d["name"])]
        if not districts:
            known = summary["district"]["name"]
            msg = f"unknown district {district!r}; this analysis holds: {known}."
            raise InputError(msg)
    ids = saved.standards.category_ids
    if category == "all":
        categories = ids
    elif category in ids:
        categories = [category]
    else:
        msg = f"unknown category {category!r}; expected 'all' or one of {', '.join(ids)}."
        raise InputError(msg)
    out.mkdir(parents=True, exist_ok=True)
    written, counts = [], {}
    for d in districts:
        fmap, n = district_map(saved, categories, offline, lang)
        name = re.sub(r"[^\w\-]+", "_", d["id"]) + ".html"
        save_map(fmap, out / name)
        written.append(out / name)
        counts[name] = n
    links = "".join(
        f'<li><a href="{p.name}">{html.escape(d["name"])}</a></li>'
        for p, d in zip(written, districts, strict=True)
    )
    index = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{tr("index", lang)}'
        f"</title></head><body><h1>{tr('index', lang)}</h1><ul>{links}</ul>"
        f"<p>{ATTRIBUTION}</p></body></html>"
    )
    atomic_write(out / "index.html", lambda tmp: tmp.write_text(index, encoding="utf-8"))
    return [*written, out / "index.html"], counts


# ---------------------------------------------------------------------------------------------
# siting map
# ---------------------------------------------------------------------------------------------


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
    fmap = _new_map(offline=False)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    _fixed_html(fmap, f"<b>{html.escape(title)}</b>", "top:8px;left:50px")

    ring_layer = folium.FeatureGroup(tr("areas", lang))
    for minutes in sorted(areas["minutes"].unique(), reverse=True):
        ring = areas[areas["minutes"] == minutes]
        colour = RING_COLOURS.get(int(minutes), "#91bfdb")
        folium.GeoJson(
            _geojson(ring[["rank", "minutes", "geometry"]]),
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
        folium.GeoJson(
            _geojson(frame[["population", "geometry"]]),
            name=tr(key, lang),
            marker=folium.CircleMarker(
                radius=2, weight=0, fill=True, fill_opacity=0.8, fill_color=colour
            ),
        ).add_to(fmap)

    if not existing.empty:
        layer = folium.FeatureGroup(tr("existing", lang))
        for row in existing.itertuples():
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=6,
                color="#333",
                fill=True,
                fill_color="#999",
                fill_opacity=1,
                tooltip=str(row.name or ""),
            ).add_to(layer)
        layer.add_to(fmap)

    layer = folium.FeatureGroup(tr("sites", lang))
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


def write_sites_map(
    saved: SavedAnalysis,
    category_id: str,
    sites: gpd.GeoDataFrame,
    rank_dist: list[tuple[int, np.ndarray]],
    homes_idx: np.ndarray,
    uncovered_idx: np.ndarray | None,
    title: str,
    lang: str,
    path: Path,
) -> gpd.GeoDataFrame:
    """Draw sites with their 5/10/15-minute service areas and the homes they reach.

    ``rank_dist`` pairs each site's rank with its walking distance to every routing node.
    Returns the service areas drawn.
    """
    speed = service_speed(saved, access_rules(saved, category_id))
    rings = [service_areas(saved, dist, speed).assign(rank=rank) for rank, dist in rank_dist]
    areas = (
        pd.concat(rings, ignore_index=True)
        if rings
        else gpd.GeoDataFrame({"rank": [], "minutes": []}, geometry=[], crs=4326)
    )
    demand = saved.layer("demand_points")
    facilities = saved.layer("facilities")
    existing = facilities[facilities["category_id"] == category_id]
    uncovered = demand.iloc[uncovered_idx] if uncovered_idx is not None else None
    fmap = sites_map(sites, areas, demand.iloc[homes_idx], existing, title, lang, uncovered)
    save_map(fmap, path)
    return areas


def save_map(fmap: folium.Map, path: Path) -> None:
    """Write a map's HTML atomically."""
    atomic_write(path, lambda tmp: fmap.save(str(tmp)))
