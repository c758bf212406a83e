"""Folium HTML maps drawn from saved results, online (tiles) or offline (self-contained)."""

from __future__ import annotations

import base64
import html
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from circles.access.service_areas import service_areas
from circles.errors import InputError
from circles.folders import safe_name
from circles.planning.saved import SavedAnalysis
from circles.present.style import (
    ATTRIBUTION,
    BEYOND_COLOUR,
    CATEGORY_COLOURS,
    HOME_COLOURS,
    OTHER_RING_COLOUR,
    RING_COLOURS,
    STATUS_COLOURS,
    TIME_BINS,
    category_authority,
    category_status,
    tr,
)
from circles.present.tables import atomic_write
from circles.standards import Standards

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
    """An empty map: OSM tiles online; offline, Leaflet inlined, no tiles, the credit in place."""
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    if offline:
        fmap.default_js, fmap.default_css = [], []
        js, css = _leaflet_assets()
        fmap.get_root().header.add_child(Verbatim(f"<style>{css}</style>"), index=0)
        fmap.get_root().header.add_child(Verbatim(f"<script>{js}</script>"), index=1)
        fmap.add_child(Attribution(ATTRIBUTION))
    else:
        folium.TileLayer("OpenStreetMap", attr=ATTRIBUTION).add_to(fmap)
        fmap.add_child(Attribution(""))
    return fmap


# ---------------------------------------------------------------------------------------------
# Elements that show data as text. Names come from OSM, planners' files and standards YAML, so
# none may become code:
# - in the browser: text is escaped for HTML (html.escape) where Leaflet inserts it as HTML,
#   or set as textContent, and it enters a <script> only as a JSON string written by Jinja's
#   ``tojson`` (which escapes <, >, & and '), never inside a JavaScript template string;
# - in Python: branca compiles every rendered script as a Jinja template and renders it again,
#   so a name like ``{{ ... }}`` would run as Jinja (and Python) while the map is written.
#   Elements that carry data render once (VerbatimMacro, Verbatim).
# ---------------------------------------------------------------------------------------------


class Verbatim(Element):
    """Rendered text written as it is (a plain branca Element is a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text

    def render(self, **kwargs: object) -> str:
        """The text, unchanged."""
        return self.text


class VerbatimMacro(MacroElement):
    """A MacroElement whose rendered header, html and script are not rendered a second time."""

    def render(self, **kwargs: object) -> None:
        """Add the rendered macros to the page as Verbatim elements, then render the children."""
        figure = self.get_root()
        for part in ("header", "html", "script"):
            macro = self._template.module.__dict__.get(part)
            if macro is not None:
                text = macro(self, kwargs)
                getattr(figure, part).add_child(Verbatim(text), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class VerbatimGeoJson(folium.GeoJson, VerbatimMacro):
    """folium's GeoJson layer with its data (names...) rendered once.

    Style values must be plain values: folium's element-valued styles rely on the second render.
    """


class VerbatimDivIcon(folium.DivIcon, VerbatimMacro):
    """folium's DivIcon with its HTML rendered once."""


class PlainPopup(VerbatimMacro):
    """A popup bound with Leaflet alone, its HTML (data parts escaped) as a JSON string.

    folium's Popup needs jQuery (absent offline) and puts its HTML in a JavaScript template
    string, where ``${...}`` runs.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }}, {maxWidth: 320});"
        "{% endmacro %}"
    )

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "PlainPopup"
        self.html = html_text


class TextTooltip(folium.Tooltip, VerbatimMacro):
    """A tooltip showing ``text`` as text (folium's Tooltip pastes it into a template string)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindTooltip({{ this.html|tojson }}, "
        "{{ this.options|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._name = "TextTooltip"
        self.html = f"<div>{html.escape(self.text)}</div>"


class TextGeoJsonTooltip(folium.GeoJsonTooltip, VerbatimMacro):
    """folium's table of feature properties, with names and values set as text, not as HTML."""

    _template = Template(
        """{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.bindTooltip(function (layer) {
    const div = L.DomUtil.create("div");
    const table = L.DomUtil.create("table", "", div);
    const fields = {{ this.fields|tojson }};
    const aliases = {{ this.aliases|tojson }};
    fields.forEach(function (field, i) {
        const row = L.DomUtil.create("tr", "", table);
        {%- if this.labels %}
        L.DomUtil.create("th", "", row).textContent = aliases[i];
        {%- endif %}
        const value = layer.feature.properties[field];
        L.DomUtil.create("td", "", row).textContent = value === null ? "" :
            typeof value === "object" ? JSON.stringify(value) : String(value);
    });
    return div;
}, {{ this.leaflet_options|tojson }});
{% endmacro %}"""
    )

    def __init__(self, fields: list[str]) -> None:
        super().__init__(fields)
        self._name = "TextGeoJsonTooltip"
        self.leaflet_options = {"sticky": True, "className": self.class_name}


class _EscapedKeys(OrderedDict):
    """A dict whose keys are stored HTML-escaped."""

    def __setitem__(self, key: str, value: object) -> None:
        super().__setitem__(html.escape(key), value)


class TextLayerControl(folium.LayerControl, VerbatimMacro):
    """folium's layer control with layer names shown as text (Leaflet inserts them as HTML)."""

    def reset(self) -> None:
        """Empty the layer lists; folium fills them with layer names when it renders."""
        self.base_layers = _EscapedKeys()
        self.overlays = _EscapedKeys()


class Attribution(VerbatimMacro):
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
    """A white box of HTML fixed on the page at CSS position ``where``; escape data in ``body``."""
    style = f"position:fixed;{where};z-index:1000;background:rgba(255,255,255,0.92);"
    style += "padding:6px 8px;font:12px/1.4 sans-serif;border-radius:4px;box-shadow:0 0 4px #888"
    fmap.get_root().html.add_child(Verbatim(f'<div style="{style}">{body}</div>'))


def _geojson(gdf: gpd.GeoDataFrame, precision: float = 1e-6) -> dict:
    """GeoJSON with coordinates rounded (about 0.1 m at 1e-6 degrees)."""
    gdf = gdf.set_geometry(shapely.set_precision(gdf.geometry.values, precision))
    return json.loads(gdf[~gdf.is_empty].to_json(na="null", drop_id=True))


# ---------------------------------------------------------------------------------------------
# district gap map
# ---------------------------------------------------------------------------------------------

LAYER_KINDS = ("communities", "service_areas", "facilities", "demand_points", "network")


@dataclass(frozen=True)
class _District:
    """What a district map is drawn from: the saved analysis, its layers read once, a language."""

    saved: SavedAnalysis
    communities: gpd.GeoDataFrame
    shapes: gpd.GeoDataFrame  # the communities, outlines simplified to 2 m, WGS-84
    facilities: gpd.GeoDataFrame
    lang: str

    @property
    def std(self) -> Standards:
        """The standards the analysis was run with."""
        return self.saved.standards


def _read_district(saved: SavedAnalysis, lang: str) -> _District:
    """Read the layers a district map draws, once for every category."""
    communities = saved.layer("communities")
    metric = communities.to_crs(saved.crs)
    shapes = communities.set_geometry(
        gpd.GeoSeries(metric.simplify(2.0, preserve_topology=True), crs=saved.crs).to_crs(4326)
    )
    return _District(saved, communities, shapes, saved.layer("facilities"), lang)


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
    district = _read_district(saved, lang)
    fmap = _new_map(offline)
    minx, miny, maxx, maxy = (
        gpd.GeoSeries([saved.study_area_m], crs=saved.crs).to_crs(4326).total_bounds
    )
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    counts = dict.fromkeys(LAYER_KINDS, 0)
    if offline:
        counts["network"] = _add_network(fmap, saved, lang)
    for i, cat_id in enumerate(categories):
        counts["communities"] += _add_communities(fmap, district, cat_id, show=i == 0)
        counts["service_areas"] += _add_service_areas(fmap, district, cat_id, show=i == 0)
        counts["facilities"] += _add_facilities(fmap, district, cat_id, show=i == 0)
    counts["demand_points"] = _add_demand_points(fmap, district, categories[0])
    TextLayerControl(collapsed=False).add_to(fmap)
    _add_title_and_legend(fmap, district, categories[0])
    return fmap, counts


def _add_network(fmap: folium.Map, saved: SavedAnalysis, lang: str) -> int:
    """The walking network as a light basemap (offline maps have no tiles); returns lines drawn."""
    edges = saved.layer("network_edges").to_crs(saved.crs)
    merged = shapely.line_merge(shapely.union_all(edges.geometry.values))
    lines = gpd.GeoDataFrame(geometry=list(getattr(merged, "geoms", [merged])), crs=saved.crs)
    lines = lines.set_geometry(lines.simplify(3.0)).to_crs(4326)
    network = _geojson(lines, 1e-5)
    VerbatimGeoJson(
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
    return len(network["features"])


def _community_table(district: _District, cat_id: str) -> gpd.GeoDataFrame:
    """Community shapes with status, colour, and each rule's value and shortfall for a category."""
    communities, lang = district.communities, district.lang
    rules = district.std.rules_of(cat_id)
    status = category_status(communities, district.std, cat_id)
    layer = district.shapes[["name", "population", "population_estimated", "geometry"]].copy()
    layer["status"] = status.map(lambda s: tr(s, lang))
    layer["colour"] = status.map(STATUS_COLOURS)
    for rule in rules:
        shortfall = f"{rule.name(lang)} · {tr('shortfall', lang)}"
        for what, label in (("value", rule.name(lang)), ("shortfall", shortfall)):
            col = f"{rule.id}.{what}"
            if col in communities:
                layer[label] = pd.to_numeric(communities[col], errors="coerce").round(3)
    layer["name"] = layer["name"].fillna(tr("unknown", lang))
    return layer


def _add_communities(fmap: folium.Map, district: _District, cat_id: str, show: bool) -> int:
    """A category's community layer coloured by status, with a tooltip; returns polygons drawn."""
    cat, lang = district.std.category(cat_id), district.lang
    layer = _community_table(district, cat_id)
    basis = tr(category_authority(district.saved.summary, cat_id), lang)
    layer.insert(layer.columns.get_loc("status") + 1, tr("basis", lang), basis)
    fields = [c for c in layer.columns if c not in ("geometry", "colour")]
    VerbatimGeoJson(
        _geojson(layer),
        name=f"{cat.symbol} {cat.name(lang)} · {basis}",
        show=show,
        style_function=lambda f: {
            "color": "#555",
            "weight": 0.6,
            "fillOpacity": 0.55,
            "fillColor": f["properties"]["colour"],
            "className": "circles-community",
        },
        tooltip=TextGeoJsonTooltip(fields),
    ).add_to(fmap)
    return len(layer)


def _service_rings(saved: SavedAnalysis, cat_id: str) -> gpd.GeoDataFrame | None:
    """5/10/15-minute areas around a category's facilities (WGS-84); None if none is reached."""
    dist = saved.node_dist(cat_id)
    if not np.isfinite(dist).any():
        return None
    std = saved.standards
    rings = service_areas(saved.state.graph, saved.crs, dist, std, std.category_profile(cat_id))
    rings = rings.to_crs(saved.crs)
    return rings.set_geometry(rings.simplify(3.0, preserve_topology=True)).to_crs(4326)


def _add_service_areas(fmap: folium.Map, district: _District, cat_id: str, show: bool) -> int:
    """A category's walking service areas as one toggleable group; returns the rings drawn."""
    rings = _service_rings(district.saved, cat_id)
    if rings is None:
        return 0
    lang = district.lang
    cat = district.std.category(cat_id)
    group = folium.FeatureGroup(f"{cat.name(lang)} · {tr('areas', lang)}", show=show)
    for ring in rings.sort_values("minutes", ascending=False).itertuples():
        colour = RING_COLOURS[int(ring.minutes)]
        VerbatimGeoJson(
            _geojson(
                gpd.GeoDataFrame({"minutes": [ring.minutes]}, geometry=[ring.geometry], crs=4326)
            ),
            style_function=lambda _, c=colour: {
                "color": c,
                "fillColor": c,
                "weight": 1,
                "fillOpacity": 0.2,
                "className": "circles-service-area",
            },
            tooltip=TextTooltip(f"{ring.minutes} {tr('minutes', lang)}"),
        ).add_to(group)
    group.add_to(fmap)
    return len(rings)


def _facility_popup(row: tuple, cat_name: str, lang: str) -> str:
    """A facility's popup HTML: name, category, source and how it was matched, capacity."""
    return "<br>".join(
        [
            f"<b>{html.escape(str(row.name or tr('unknown', lang)))}</b>",
            f"{tr('category', lang)}: {html.escape(cat_name)}",
            f"{tr('source', lang)}: {html.escape(str(row.source))} "
            f"({html.escape(str(row.matched_by))})",
            f"{tr('capacity', lang)}: " + ("—" if pd.isna(row.capacity) else f"{row.capacity:g}"),
        ]
    )


def _facility_icon(colour: str, symbol: str) -> VerbatimDivIcon:
    """A round icon in the category's colour with its one-character symbol."""
    return VerbatimDivIcon(
        html=f'<div style="background:{colour};color:#fff;border:1px solid #fff;'
        f"border-radius:50%;width:18px;height:18px;font:12px/18px sans-serif;"
        f'text-align:center">{html.escape(symbol)}</div>',
        icon_size=(18, 18),
        icon_anchor=(9, 9),
        class_name="circles-facility",
    )


def _add_facilities(fmap: folium.Map, district: _District, cat_id: str, show: bool) -> int:
    """A category's facilities as icons with popups in one group; returns the markers drawn."""
    fac = district.facilities[district.facilities["category_id"] == cat_id]
    if not len(fac):
        return 0
    std, lang = district.std, district.lang
    cat = std.category(cat_id)
    group = folium.FeatureGroup(f"{cat.name(lang)} · {tr('facilities', lang)}", show=show)
    colour = CATEGORY_COLOURS[std.category_ids.index(cat_id) % len(CATEGORY_COLOURS)]
    for row in fac.itertuples():
        marker = folium.Marker(
            [row.geometry.y, row.geometry.x], icon=_facility_icon(colour, cat.symbol)
        )
        marker.add_child(PlainPopup(_facility_popup(row, cat.name(lang), lang)))
        marker.add_to(group)
    group.add_to(fmap)
    return len(fac)


def _demand_table(saved: SavedAnalysis, cat_id: str) -> gpd.GeoDataFrame:
    """Demand points with their minutes of walk to a category and the colour of that time."""
    demand = saved.layer("demand_points")
    std = saved.standards
    dist = pd.to_numeric(demand[f"dist_m.{cat_id}"], errors="coerce")
    minutes = std.m_to_minutes(dist, std.category_profile(cat_id))
    points = demand[["population", "geometry"]].copy()
    points["minutes"] = minutes.round(1)
    points["colour"] = BEYOND_COLOUR
    for limit, colour in reversed(TIME_BINS):
        points.loc[minutes <= limit, "colour"] = colour
    return points


def _add_demand_points(fmap: folium.Map, district: _District, cat_id: str) -> int:
    """Demand points shaded by walking time to a category; returns the points drawn."""
    points = _demand_table(district.saved, cat_id)
    lang = district.lang
    VerbatimGeoJson(
        _geojson(points),
        name=f"{tr('walk_time', lang)} · {district.std.category(cat_id).name(lang)}",
        marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#000",
            "className": "circles-demand",
        },
        tooltip=TextGeoJsonTooltip(["minutes", "population"]),
    ).add_to(fmap)
    return len(points)


def _add_title_and_legend(fmap: folium.Map, district: _District, cat_id: str) -> None:
    """The title (district, standards, data date) at the top, the legend at the bottom left."""
    summary, std, lang = district.saved.summary, district.std, district.lang
    title = (
        f"{html.escape(summary['district']['name'])} · {html.escape(std.name(lang))} · "
        f"{tr('data_date', lang)}: "
        f"{html.escape(summary['input']['data_date'] or tr('unknown', lang))}"
    )
    _fixed_html(fmap, f"<b>{title}</b>", "top:8px;left:50px")
    _fixed_html(fmap, _legend(std.category(cat_id).name(lang), lang), "bottom:70px;left:8px")


def _legend(category_name: str, lang: str) -> str:
    """The legend's HTML: community status, service-area rings, walking time to a category."""

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
    districts = _chosen_districts(saved.summary, district)
    categories = _chosen_categories(saved.standards.category_ids, category)
    out.mkdir(parents=True, exist_ok=True)
    written, counts = [], {}
    for d in districts:
        fmap, n = district_map(saved, categories, offline, lang)
        name = safe_name(re.sub(r"[^\w\-]+", "_", d["id"]), limit=120) + ".html"
        save_map(fmap, out / name)
        written.append(out / name)
        counts[name] = n
    index = _index_html(written, districts, lang)
    atomic_write(out / "index.html", lambda tmp: tmp.write_text(index, encoding="utf-8"))
    return [*written, out / "index.html"], counts


def _chosen_districts(summary: dict, district: str) -> list[dict]:
    """The analysis' districts that ``district`` (id, name or ``all``) names."""
    districts = [summary["district"]]
    if district == "all":
        return districts
    districts = [d for d in districts if district in (d["id"], d["name"])]
    if not districts:
        known = summary["district"]["name"]
        msg = f"unknown district {district!r}; this analysis holds: {known}."
        raise InputError(msg)
    return districts


def _chosen_categories(ids: list[str], category: str) -> list[str]:
    """The category ids that ``category`` (an id or ``all``) names."""
    if category == "all":
        return ids
    if category in ids:
        return [category]
    msg = f"unknown category {category!r}; expected 'all' or one of {', '.join(ids)}."
    raise InputError(msg)


def _index_html(written: list[Path], districts: list[dict], lang: str) -> str:
    """The index page linking each district's map."""
    links = "".join(
        f'<li><a href="{html.escape(p.name)}">{html.escape(d["name"])}</a></li>'
        for p, d in zip(written, districts, strict=True)
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{tr("index", lang)}'
        f"</title></head><body><h1>{tr('index', lang)}</h1><ul>{links}</ul>"
        f"<p>{ATTRIBUTION}</p></body></html>"
    )


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
    _add_site_areas(fmap, areas, lang)
    for key, frame in (("uncovered", uncovered), ("homes", homes)):
        if frame is not None and not frame.empty:
            _add_homes(fmap, frame, tr(key, lang), HOME_COLOURS[key])
    if not existing.empty:
        _add_existing(fmap, existing, lang)
    _add_sites(fmap, sites, lang)
    TextLayerControl(collapsed=False).add_to(fmap)
    return fmap


def _add_site_areas(fmap: folium.Map, areas: gpd.GeoDataFrame, lang: str) -> None:
    """The sites' service areas, one layer per ring (largest first) in one group."""
    ring_layer = folium.FeatureGroup(tr("areas", lang))
    for minutes in sorted(areas["minutes"].unique(), reverse=True):
        ring = areas[areas["minutes"] == minutes]
        colour = RING_COLOURS.get(int(minutes), OTHER_RING_COLOUR)
        VerbatimGeoJson(
            _geojson(ring[["rank", "minutes", "geometry"]]),
            style_function=lambda _, c=colour: {
                "color": c,
                "fillColor": c,
                "weight": 1,
                "fillOpacity": 0.25,
            },
            tooltip=TextGeoJsonTooltip(["rank", "minutes"]),
        ).add_to(ring_layer)
    ring_layer.add_to(fmap)


def _add_homes(fmap: folium.Map, homes: gpd.GeoDataFrame, name: str, colour: str) -> None:
    """Demand points as small dots in one colour, a layer of their own."""
    VerbatimGeoJson(
        _geojson(homes[["population", "geometry"]]),
        name=name,
        marker=folium.CircleMarker(
            radius=2, weight=0, fill=True, fill_opacity=0.8, fill_color=colour
        ),
    ).add_to(fmap)


def _add_existing(fmap: folium.Map, existing: gpd.GeoDataFrame, lang: str) -> None:
    """Existing facilities of the category as grey dots named on hover."""
    layer = folium.FeatureGroup(tr("existing", lang))
    for row in existing.itertuples():
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=6,
            color="#333",
            fill=True,
            fill_color="#999",
            fill_opacity=1,
            tooltip=TextTooltip(str(row.name or "")),
        ).add_to(layer)
    layer.add_to(fmap)


def _add_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, lang: str) -> None:
    """The sites as red star markers with their rank on hover and their scores in a popup."""
    layer = folium.FeatureGroup(tr("sites", lang))
    fields = [c for c in sites.columns if c != "geometry"]
    for _, row in sites.iterrows():
        popup = "<br>".join(f"{html.escape(str(f))}: {html.escape(str(row[f]))}" for f in fields)
        marker = folium.Marker(
            [row.geometry.y, row.geometry.x],
            tooltip=TextTooltip(f"#{row['rank']}"),
            icon=folium.Icon(color="red", icon="star"),
        )
        marker.add_child(PlainPopup(popup))
        marker.add_to(layer)
    layer.add_to(fmap)


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
    std, graph = saved.standards, saved.state.graph
    profile = std.category_profile(category_id)
    rings = [
        service_areas(graph, saved.crs, dist, std, profile).assign(rank=rank)
        for rank, dist in rank_dist
    ]
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
