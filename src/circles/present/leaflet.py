"""Web-map parts: Leaflet embedded from an installed package, basemap tiles, elements that show
data as text, and geometry made small (quantised) and shifted for the chosen basemap."""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections import OrderedDict
from importlib import resources
from pathlib import Path

import folium
import numpy as np
import prcoords
import shapely
from branca.element import Element, MacroElement
from folium.map import Layer
from jinja2 import Template

from circles.errors import InputError
from circles.messages import say
from circles.present.style import ATTRIBUTION
from circles.present.tables import atomic_write

TILE_CHOICES = ("osm", "tianditu", "amap", "none")
TIANDITU_KEY = "TIANDITU_KEY"
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
TILES = {  # url templates, subdomains, credit
    "osm": (["https://tile.openstreetmap.org/{z}/{x}/{y}.png"], "abc", ""),
    "tianditu": ([_TIANDITU.replace("{layer}", name) for name in ("vec", "cva")], "01234567",
                 "© 天地图 国家地理信息公共服务平台"),
    "amap": (["https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
              "&x={x}&y={y}&z={z}"], "1234", "© 高德地图 AutoNavi"),
}  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Leaflet from an installed package (no CDN, ever), the basemap
# ---------------------------------------------------------------------------------------------


def leaflet_assets() -> tuple[str, str]:
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


def tianditu_key() -> str:
    """The 天地图 key from ``TIANDITU_KEY``.

    Raises
    ------
    InputError
        When it is not set: how to get one and set it.
    """
    key = os.environ.get(TIANDITU_KEY, "").strip()
    if not key:
        raise InputError(say("out_tianditu_key", var=TIANDITU_KEY))
    return key


def base_map(tiles: str) -> folium.Map:
    """An empty map with Leaflet inlined and the basemap ``tiles`` (``none``: no tiles).

    Raises
    ------
    InputError
        Unknown ``tiles``, or 天地图 without a key.
    """
    if tiles not in TILE_CHOICES:
        raise InputError(say("out_unknown_tiles", tiles=tiles, known=", ".join(TILE_CHOICES)))
    fmap = folium.Map(tiles=None, prefer_canvas=True, max_zoom=19)
    fmap.default_js, fmap.default_css = [], []
    js, css = leaflet_assets()
    fmap.get_root().header.add_child(Verbatim(f"<style>{css}</style>"), index=0)
    fmap.get_root().header.add_child(Verbatim(f"<script>{js}</script>"), index=1)
    credit = ATTRIBUTION  # the overlays' data; tile layers credit their own
    if tiles != "none":
        urls, subdomains, tile_credit = TILES[tiles]
        key = tianditu_key() if tiles == "tianditu" else ""
        for url in urls:
            folium.TileLayer(
                url.replace("{key}", key),
                attr=tile_credit or ATTRIBUTION,
                subdomains=subdomains,
                max_zoom=19,
                max_native_zoom=18,
                control=False,
            ).add_to(fmap)
        credit = ATTRIBUTION if tile_credit else ""
    fmap.add_child(Attribution(credit))
    return fmap


# ---------------------------------------------------------------------------------------------
# geometry for display: shifted into the basemap's datum, simplified, quantised
# ---------------------------------------------------------------------------------------------


def _wgs_to_gcj(xy: np.ndarray) -> np.ndarray:
    """WGS-84 longitude/latitude rows to GCJ-02 (prcoords; unchanged outside China)."""
    out = [prcoords.wgs_gcj(prcoords.Coords(lat, lon), True) for lon, lat in xy]
    return np.array([[c.lon, c.lat] for c in out]).reshape(-1, 2)


def for_display(geoms: np.ndarray, tiles: str, decimals: int = 5) -> np.ndarray:
    """WGS-84 geometries as drawn on ``tiles``: in GCJ-02 for 高德 (its tiles are GCJ-02),
    rounded to ``decimals`` (5: about 1 m) so that the HTML stays small."""
    geoms = np.asarray(geoms)
    if tiles == "amap":
        geoms = shapely.transform(geoms, _wgs_to_gcj)
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def geojson(geoms: np.ndarray, properties: dict[str, list] | None = None) -> dict:
    """A FeatureCollection of ``geoms`` (already for display) with per-feature ``properties``."""
    properties = properties or {}
    geoms = np.asarray(geoms)
    keep = ~shapely.is_empty(geoms)
    columns = list(properties.values())
    rows = [{k: c[i] for k, c in zip(properties, columns, strict=True)} for i in range(len(geoms))]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(g))}
            for g, props, k in zip(geoms, rows, keep, strict=True)
            if k
        ],
    }


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


class DataLayer(Layer, VerbatimMacro):
    """GeoJSON features styled by a key in their properties: ``styles[key]`` holds Leaflet path
    options (points become circle markers, ``radius`` in the style); rendered once.

    Smaller and faster than folium's GeoJson, which writes a ``case`` per feature.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
    const styles = {{ this.styles|tojson }};
    return L.geoJson({{ this.data|tojson }}, {
        style: f => styles[f.properties[{{ this.key|tojson }}]],
        pointToLayer: (f, latlng) => L.circleMarker(latlng, styles[f.properties[{{ this.key|tojson }}]]),
        interactive: {{ this.interactive|tojson }}
    });
})();
{% endmacro %}"""  # noqa: E501
    )

    def __init__(
        self,
        data: dict,
        styles: dict[str, dict],
        key: str,
        name: str | None = None,
        interactive: bool = True,
        **kwargs: bool,
    ) -> None:
        super().__init__(name=name, **{"overlay": True} | kwargs)
        self._name = "DataLayer"
        self.data, self.styles, self.key, self.interactive = data, styles, key, interactive


class CategoryLayer(Layer, VerbatimMacro):
    """GeoJSON features drawn once and restyled by the base layer shown (one per category).

    Property ``k`` and any other property listed in ``fields`` may hold one value per
    category; ``styles[i][k]`` are Leaflet path options; the tooltip shows ``fields[i]``
    under ``aliases[i]``, then the pairs ``constants[i]``, all set as text.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
    const map = {{ this._parent.get_name() }}, names = {{ this.names|tojson }};
    const styles = {{ this.styles|tojson }}, fields = {{ this.fields|tojson }};
    const aliases = {{ this.aliases|tojson }}, constants = {{ this.constants|tojson }};
    let i = 0;
    const pick = v => Array.isArray(v) ? v[i] : v;
    const style = f => styles[i][pick(f.properties.k)];
    const layer = L.geoJson({{ this.data|tojson }}, {style: style});
    layer.bindTooltip(function (l) {
        const div = L.DomUtil.create("div"), table = L.DomUtil.create("table", "", div);
        if (!l.feature) return div;  // the whole layer, not one of its features
        const add = (header, value) => {
            if (value === null || value === undefined || value === "") return;
            const row = L.DomUtil.create("tr", "", table);
            L.DomUtil.create("th", "", row).textContent = header;
            L.DomUtil.create("td", "", row).textContent = String(value);
        };
        fields[i].forEach((field, j) => add(aliases[i][j], pick(l.feature.properties[field])));
        constants[i].forEach(pair => add(pair[0], pair[1]));
        return div;
    }, {sticky: true});
    map.on("baselayerchange", function (e) {
        const j = names.indexOf(e.name);
        if (j >= 0) { i = j; layer.setStyle(style); }
    });
    return layer;
})();
{% endmacro %}"""
    )

    def __init__(
        self,
        data: dict,
        names: list[str],
        styles: list[dict],
        fields: list[list[str]],
        aliases: list[list[str]],
        constants: list[list[tuple[str, str]]],
    ) -> None:
        super().__init__(control=False)
        self._name = "CategoryLayer"
        self.data, self.names, self.styles = data, [html.escape(n) for n in names], styles
        self.fields, self.aliases, self.constants = fields, aliases, constants


class Lines(Layer, VerbatimMacro):
    """Many lines as one Leaflet polyline, written compactly: per line, its first point and
    then the steps to the next, in units of ``1e-5`` degree (about 1 m)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.polyline({{ this.lines }}.map(function (line) {
    const out = [];
    let x = 0, y = 0;
    for (let j = 0; j < line.length; j += 2) {
        x += line[j]; y += line[j + 1];
        out.push([y / 1e5, x / 1e5]);
    }
    return out;
}), {{ this.style|tojson }});
{% endmacro %}"""
    )

    def __init__(self, lines: np.ndarray, style: dict) -> None:
        super().__init__(control=False)
        self._name = "Lines"
        self.style = style | {"interactive": False}
        parts = []  # a JSON array of integers, kept as text (a city's network is large)
        for line in lines:
            units = np.round(shapely.get_coordinates(line) * 1e5).astype(np.int64)
            steps = np.diff(units, axis=0, prepend=[[0, 0]])
            parts.append("[" + ",".join(map(str, steps.ravel().tolist())) + "]")
        self.lines = "[" + ",".join(parts) + "]"


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
    """A table of feature properties (``aliases`` as row headers), then ``constants`` (pairs
    of header and value, the same for every feature), names and values set as text, not as
    HTML; a tooltip, or a popup with ``bind="Popup"``."""

    _template = Template(
        """{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.bind{{ this.bind }}(function (layer) {
    const div = L.DomUtil.create("div");
    const table = L.DomUtil.create("table", "", div);
    if (!layer.feature) return div;  // the whole layer, not one of its features
    const fields = {{ this.fields|tojson }};
    const aliases = {{ this.aliases|tojson }};
    fields.forEach(function (field, i) {
        const value = layer.feature.properties[field];
        if (value === null || value === undefined || value === "") return;
        const row = L.DomUtil.create("tr", "", table);
        {%- if this.labels %}
        L.DomUtil.create("th", "", row).textContent = aliases[i];
        {%- endif %}
        L.DomUtil.create("td", "", row).textContent =
            typeof value === "object" ? JSON.stringify(value) : String(value);
    });
    {{ this.constants|tojson }}.forEach(function (pair) {
        const row = L.DomUtil.create("tr", "", table);
        L.DomUtil.create("th", "", row).textContent = pair[0];
        L.DomUtil.create("td", "", row).textContent = pair[1];
    });
    return div;
}, {{ this.leaflet_options|tojson }});
{% endmacro %}"""
    )

    def __init__(
        self,
        fields: list[str],
        aliases: list[str] | None = None,
        bind: str = "Tooltip",
        labels: bool = True,
        constants: list[tuple[str, str]] = (),
    ) -> None:
        super().__init__(fields, aliases=aliases, labels=labels)
        self.constants = list(constants)
        self._name = "TextGeoJsonTooltip"
        self.bind = {"Tooltip": "Tooltip", "Popup": "Popup"}[bind]
        self.leaflet_options = {"sticky": True, "className": self.class_name}
        if bind == "Popup":
            self.leaflet_options = {"maxWidth": 320}

    def render(self, **kwargs: object) -> None:
        """Render once, on a DataLayer as on a GeoJson (folium's checks want a GeoJson)."""
        VerbatimMacro.render(self, **kwargs)


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
    """Credit in Leaflet's attribution control (tile layers add their own when there are),
    and a metric scale bar."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');"
        "{% if this.text %}{{ this._parent.get_name() }}.attributionControl"
        ".addAttribution({{ this.text|tojson }});{% endif %}"
        "{% endmacro %}"
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


class Labels(Layer, VerbatimMacro):
    """Names written on the map (set as text), shown from zoom ``min_zoom`` on."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.layerGroup();
(function () {
    const group = {{ this.get_name() }}, map = {{ this._parent.get_name() }};
    {{ this.labels|tojson }}.forEach(function (item) {
        const span = document.createElement("span");
        span.textContent = item[2];
        const options = {permanent: true, direction: "center", interactive: false,
            className: {{ this.class_name|tojson }}};
        group.addLayer(L.tooltip(options).setLatLng([item[0], item[1]]).setContent(span));
    });
    const update = () => map.getZoom() >= {{ this.min_zoom }} ? group.addTo(map) : group.remove();
    map.on("zoomend", update);
    map.whenReady(update);
})();
{% endmacro %}"""
    )

    def __init__(self, labels: list[tuple[float, float, str]], class_name: str, min_zoom: int):
        super().__init__(control=False, show=False)
        self._name = "Labels"
        self.labels, self.class_name, self.min_zoom = labels, class_name, min_zoom


class Legends(VerbatimMacro):
    """One legend box per base layer (already-escaped HTML), the shown layer's one visible."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
    const map = {{ this._parent.get_name() }}, legends = {{ this.legends|tojson }};
    const box = L.DomUtil.create("div", "circles-legend", document.body);
    box.setAttribute("style", {{ this.style|tojson }});
    const show = name => { if (name in legends) box.innerHTML = legends[name]; };
    show({{ this.first|tojson }});
    map.on("baselayerchange", e => show(e.name));
})();
{% endmacro %}"""
    )

    def __init__(self, legends: dict[str, str], first: str, style: str) -> None:
        super().__init__()
        self._name = "Legends"
        self.legends = {html.escape(k): v for k, v in legends.items()}
        self.first, self.style = html.escape(first), BOX_STYLE + style


BOX_STYLE = (
    "position:fixed;z-index:1000;background:rgba(255,255,255,0.92);padding:6px 8px;"
    "font:12px/1.4 sans-serif;border-radius:4px;box-shadow:0 0 4px #888;"
)


def save_map(fmap: folium.Map, path: Path) -> None:
    """Write a map's HTML atomically."""
    atomic_write(path, lambda tmp: fmap.save(str(tmp)))


def fixed_html(fmap: folium.Map, body: str, where: str) -> None:
    """A white box of HTML fixed on the page at CSS position ``where``; escape data in ``body``."""
    fmap.get_root().html.add_child(Verbatim(f'<div style="{BOX_STYLE}{where}">{body}</div>'))
