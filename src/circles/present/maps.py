"""A district's graded gap map (HTML): per category, communities coloured by the share of the
residents within reach, the gap as cells of residents not within reach, service areas and
facilities; on a chosen basemap (OSM, 天地图, 高德 in GCJ-02, or none: network and names)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.access.service_areas import service_areas
from circles.errors import InputError
from circles.messages import label, say, tr
from circles.planning.saved import Part, SavedAnalysis
from circles.present.leaflet import (
    CategoryLayer,
    DataLayer,
    Labels,
    Legends,
    Lines,
    TextGeoJsonTooltip,
    TextLayerControl,
    base_map,
    fixed_html,
    for_display,
    geojson,
    save_map,
)
from circles.present.style import (
    ATTRIBUTION,
    CATEGORY_COLOURS,
    GAP_COLOURS,
    HOME_COLOURS,
    NEUTRAL_STYLES,
    OUTLINES,
    RING_COLOURS,
    beyond_reach,
    category_authority,
    class_colours,
    community_keys,
    share_classes,
)
from circles.present.tables import HEADERS, atomic_write
from circles.rules.measures import rule_weights
from circles.standards import AccessRule, Standards

LAYER_KINDS = ("communities", "service_areas", "facilities", "gap_cells", "network", "labels")
GAP_CELLS = 1200  # about this many hexagonal gap cells over the study area


@dataclass(frozen=True)
class _District:
    """What a district map is drawn from: the saved analysis, its layers read once, the
    communities' outlines for display, the basemap and the language."""

    saved: SavedAnalysis
    communities: gpd.GeoDataFrame
    shapes: np.ndarray  # the communities' outlines, simplified to 2 m, for display
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame  # metric CRS
    tiles: str
    lang: str
    part: Part  # the district, or one 街道

    @property
    def std(self) -> Standards:
        """The standards the analysis was run with."""
        return self.saved.standards


def _read_district(
    saved: SavedAnalysis, tiles: str, lang: str, part: Part | None = None
) -> _District:
    """Read the layers a district map draws, once for every category; for a part (a 街道),
    only its communities (those whose inner point lies in it) and their homes."""
    part = part or saved.parts()[0]
    communities = saved.layer("communities")
    inner = communities.to_crs(saved.crs).representative_point().values
    communities = communities[shapely.covers(part.area_m, inner)].reset_index(drop=True)
    metric = communities.to_crs(saved.crs).simplify(2.0, preserve_topology=True)
    shapes = for_display(gpd.GeoSeries(metric, crs=saved.crs).to_crs(4326).values, tiles)
    columns = ["community_id", "population", "elderly", "children"]
    columns += [f"dist_m.{c}" for c in saved.standards.category_ids]
    # only what maps use: a city has some 60 columns of 300,000 homes
    demand = saved.layer("demand_points", columns).to_crs(saved.crs)
    demand = demand[demand["community_id"].isin(communities["community_id"])]
    facilities = saved.layer("facilities")
    return _District(saved, communities, shapes, facilities, demand, tiles, lang, part)


def district_map(
    saved: SavedAnalysis,
    categories: list[str],
    tiles: str = "osm",
    lang: str = "zh",
    part: Part | None = None,
) -> tuple[folium.Map, dict[str, int]]:
    """A district's (or a 街道's, ``part``) graded gap map, one layer per category (the
    first shown; categories judged on foot with data come first, so the map opens graded).

    Returns
    -------
    map, counts
        The map and the number of features drawn per layer kind (for checks).

    Raises
    ------
    InputError
        Unknown basemap, or 天地图 without its key.
    """
    district = _read_district(saved, tiles, lang, part)
    judged = [
        c
        for c in categories
        if district.std.main_access_rule(c) and category_authority(saved.summary, c) != "no_data"
    ]
    categories = judged + [c for c in categories if c not in judged]
    fmap = base_map(tiles)
    area = gpd.GeoSeries([district.part.area_m], crs=saved.crs).to_crs(4326).values
    minx, miny, maxx, maxy = shapely.total_bounds(for_display(area, tiles))
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    counts = dict.fromkeys(LAYER_KINDS, 0)
    if tiles == "none":
        counts["network"] = add_network(fmap, saved)
        counts["labels"] = _add_labels(fmap, district)
    names = [_layer_name(district, cat_id) for cat_id in categories]
    counts["communities"] = _add_communities(fmap, district, categories, names)
    legends = {}
    for i, (cat_id, name) in enumerate(zip(categories, names, strict=True)):
        basis = tr(category_authority(saved.summary, cat_id), lang)
        group = folium.FeatureGroup(name, overlay=False, show=i == 0)
        rule = district.std.main_access_rule(cat_id)
        known = category_authority(saved.summary, cat_id) != "no_data"
        cells = gap_cells(district, rule if known else None)  # no data is not a gap
        counts["service_areas"] += _add_service_areas(group, district, cat_id)
        counts["gap_cells"] += _add_gap_cells(group, district, cells)
        counts["facilities"] += _add_facilities(group, district, cat_id)
        legends[name] = _legend(district, cat_id, basis, cells)
        group.add_to(fmap)
    TextLayerControl(collapsed=len(categories) > 20).add_to(fmap)
    _add_title(fmap, district)
    first = next(iter(legends))
    Legends(legends, first, "bottom:44px;left:8px;max-width:300px").add_to(fmap)
    return fmap, counts


def _layer_name(district: _District, cat_id: str) -> str:
    """A category's name in the layer control: symbol, name and data basis."""
    cat, lang = district.std.category(cat_id), district.lang
    basis = tr(category_authority(district.saved.summary, cat_id), lang)
    return f"{cat.symbol} {cat.name(lang)} · {basis}"


# ---------------------------------------------------------------------------------------------
# communities, graded by the share of residents within reach
# ---------------------------------------------------------------------------------------------


def _community_keys(district: _District, cat_id: str, rule: AccessRule | None) -> pd.Series:
    """Each community's style key (see ``style.community_keys``)."""
    return community_keys(district.communities, _beyond(district, cat_id), rule)


def _beyond(district: _District, cat_id: str) -> pd.Series:
    """Whether none of a community's homes reaches the category within the search limit."""
    return beyond_reach(district.communities, district.demand, cat_id)


def _community_styles(rule: AccessRule | None) -> dict[str, dict]:
    """Leaflet styles of every community key."""
    styles = {k: v | {"className": "circles-community"} for k, v in NEUTRAL_STYLES.items()}
    if rule is None:
        return styles
    classes = share_classes(rule.target_share)
    for i, colour in enumerate(class_colours(len(classes) - 1)):
        for status, outline in OUTLINES.items():
            fill = {"fillColor": colour, "fillOpacity": 0.55, "className": "circles-community"}
            styles[f"{i}|{status}"] = fill | outline
    return styles


def _add_communities(
    fmap: folium.Map, district: _District, categories: list[str], names: list[str]
) -> int:
    """The communities, drawn once and restyled by the category shown: coloured by its rule's
    share, outlined by pass / fail, with a tooltip; polygons drawn."""
    lang, communities = district.lang, district.communities
    props: dict[str, list] = {  # short keys: the HTML holds them once per community
        "n": communities["name"].fillna(tr("unknown", lang)).astype(str).tolist(),
        "p": _people(communities["population"], lang),
        "k": [],
    }
    styles, fields, aliases, constants = [], [], [], []
    for cat_id in categories:
        rule = district.std.main_access_rule(cat_id)
        props["k"].append(_community_keys(district, cat_id, rule).tolist())
        styles.append(_community_styles(rule))
        fields.append(["n", "p"])
        aliases.append([tr("community", lang), tr("population", lang)])
        constants.append([])
        if rule is not None:
            for key, values in _rule_properties(district, cat_id, rule).items():
                props.setdefault(key, [[None] * len(communities)] * len(fields[:-1]))
                props[key].append(values)
            fields[-1] += ["c", "s", "r", "g"]
            aliases[-1] += [tr(k, lang) for k in ("counted", "share", "result")]
            aliases[-1].append(_bracket(tr("shortfall", lang), tr("residents", lang), lang))
            constants[-1] += [(tr("rule", lang), rule.name(lang))]
            constants[-1] += [(tr("target", lang), f"{rule.target_share:.0%}")]
        basis = tr(category_authority(district.saved.summary, cat_id), lang)
        constants[-1].append((tr("basis", lang), basis))
    for key in ("k", "c", "s", "r", "g"):  # per community: one value per category
        if key in props:
            props[key] += [[None] * len(communities)] * (len(categories) - len(props[key]))
            props[key] = [list(v) for v in zip(*props[key], strict=True)]
    data = geojson(district.shapes, props)
    CategoryLayer(data, names, styles, fields, aliases, constants).add_to(fmap)
    return len(data["features"])


def _rule_properties(district: _District, cat_id: str, rule: AccessRule) -> dict[str, list]:
    """Per community: residents counted, share, result and shortfall (short keys)."""
    lang, communities = district.lang, district.communities
    value = pd.to_numeric(communities.get(f"{rule.id}.value"), errors="coerce")
    shortfall = pd.to_numeric(communities.get(f"{rule.id}.shortfall"), errors="coerce")
    counted = _counted(communities, rule)[1]
    status = communities.get(f"{rule.id}.status", pd.Series("no_data", index=communities.index))
    keys = _community_keys(district, cat_id, rule)
    result = [
        tr("beyond_unit", lang) if k == "beyond" else tr(s, lang)
        for k, s in zip(keys, status, strict=True)
    ]
    return {
        "c": _people(counted, lang),
        "s": [None if pd.isna(v) else f"{v:.0%}" for v in value],
        "r": result,
        "g": _people(shortfall, lang),
    }


def _colon(lang: str) -> str:
    """The colon after a label: full-width in Chinese."""
    return "：" if lang == "zh" else ": "


def _bracket(text: str, inner: str, lang: str) -> str:
    """``text (inner)``, with full-width brackets in Chinese."""
    return f"{text}（{inner}）" if lang == "zh" else f"{text} ({inner})"


def _people(values: pd.Series, lang: str) -> list[str | None]:
    """People as whole numbers with thousands separators (``None`` where unknown)."""
    out = pd.to_numeric(values, errors="coerce")
    unit = tr("residents", lang) if lang == "zh" else ""
    return [None if pd.isna(v) else f"{v:,.0f}{unit}" for v in out]


# ---------------------------------------------------------------------------------------------
# the gap: residents not within reach, summed in hexagonal cells
# ---------------------------------------------------------------------------------------------


def hex_cells(xy: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """The pointy-top hexagon (circumradius ``size``) of each point: integer axial ids
    ``(n, 2)`` and the cells' centres."""
    q = (np.sqrt(3) / 3 * xy[:, 0] - xy[:, 1] / 3) / size
    r = 2 / 3 * xy[:, 1] / size
    cube = np.stack([q, -q - r, r], axis=1)
    rounded = np.round(cube)
    err = np.abs(rounded - cube)
    worst = err.argmax(axis=1)
    rows = np.arange(len(xy))
    rounded[rows, worst] = 0
    rounded[rows, worst] = -rounded.sum(axis=1)
    qr = rounded[:, [0, 2]].astype(np.int64)
    centres = np.column_stack(
        [size * np.sqrt(3) * (qr[:, 0] + qr[:, 1] / 2), size * 1.5 * qr[:, 1]]
    )
    return qr, centres


def _gap_styles(n_breaks: int) -> dict[str, dict]:
    """Dot styles of the gap classes: radius and colour grow with the residents."""
    return {
        str(i): {"radius": 2 + i, "fillColor": c, "fillOpacity": 0.85, "color": "#3f007d",
                 "weight": 0.5}
        for i, c in enumerate(GAP_COLOURS[: n_breaks + 1])
    }  # fmt: skip


def _gap_breaks(values: np.ndarray) -> list[float]:
    """Class bounds of residents per cell (quantiles, two significant digits, distinct)."""
    qs = np.quantile(values, [0.2, 0.4, 0.6, 0.8]) if len(values) else []
    return sorted({float(f"{q:.2g}") for q in qs if q > 0})


def _add_gap_cells(group: folium.FeatureGroup, district: _District, cells: gpd.GeoDataFrame) -> int:
    """Hexagonal cells of residents not within reach as dots at their centres, larger and
    darker the more residents; cells drawn."""
    if cells.empty:
        return 0
    breaks = _gap_breaks(cells["people"].to_numpy())
    klass = np.searchsorted(breaks, cells["people"].to_numpy(), side="right")
    styles = {k: v | {"className": "circles-gap"} for k, v in _gap_styles(len(breaks)).items()}
    shapes = for_display(cells.to_crs(4326).geometry.values, district.tiles)
    props = {"k": [str(k) for k in klass], "people": _people(cells["people"], district.lang)}
    layer = DataLayer(geojson(shapes, props), styles, "k")
    TextGeoJsonTooltip(["people"], [tr("gap_cell", district.lang)]).add_to(layer)
    layer.add_to(group)
    return len(cells)


def gap_cells(district: _District, rule: AccessRule | None) -> gpd.GeoDataFrame:
    """Residents the rule counts beyond its threshold (or the search limit), summed per
    hexagonal cell: the cells' centres (metric CRS), ``people``, the cell size ``size_m``."""
    crs = district.saved.crs
    empty = gpd.GeoDataFrame({"people": [], "size_m": []}, geometry=[], crs=crs)
    if rule is None:
        return empty
    demand, std = district.demand, district.std
    weights, _, _ = rule_weights(rule, demand)
    dist = pd.to_numeric(demand[f"dist_m.{rule.category}"], errors="coerce").to_numpy()
    out = ~(dist <= std.threshold_m(rule)) & (weights > 0)
    if not out.any():
        return empty
    size = _cell_size(district.part.area_m.area)
    xy = shapely.get_coordinates(demand.geometry.values[out])
    qr, centres = hex_cells(xy, size)
    _, first, inverse = np.unique(qr, axis=0, return_index=True, return_inverse=True)
    people = np.bincount(inverse.ravel(), weights[out])
    keep = people >= 0.5
    points = shapely.points(centres[first][keep])
    return gpd.GeoDataFrame({"people": people[keep], "size_m": size}, geometry=points, crs=crs)


def _cell_size(area_m2: float) -> float:
    """Circumradius of the gap cells: about ``GAP_CELLS`` over the area, 75 m at the least."""
    hexagon = area_m2 / GAP_CELLS
    return max(75.0, float(np.sqrt(hexagon / (1.5 * np.sqrt(3)))))


# ---------------------------------------------------------------------------------------------
# service areas, facilities, the network and names (no tiles), title, legend
# ---------------------------------------------------------------------------------------------


def _add_service_areas(group: folium.FeatureGroup, district: _District, cat_id: str) -> int:
    """The 5/10/15-minute service areas of a category's facilities as outlines; rings drawn."""
    saved = district.saved
    dist = saved.node_dist(cat_id)
    if not np.isfinite(dist).any():
        return 0
    std = saved.standards
    rings = service_areas(saved.state.graph, saved.crs, dist, std, std.category_profile(cat_id))
    rings = rings[~rings.is_empty]
    scale = max(1.0, np.sqrt(saved.study_area_m.area / 100e6))  # coarser beyond 100 km²
    outlines = _outline(rings.geometry.values, 1.2e-4 * scale, 3e-6 * scale**2)
    for minutes, outline in zip(
        rings["minutes"], for_display(outlines, district.tiles), strict=True
    ):
        style = {"color": RING_COLOURS[minutes], "weight": 1.2}
        Lines(
            shapely.get_parts(shapely.boundary(outline)),
            style | {"className": "circles-service-area"},
        ).add_to(group)
    return len(rings)


def _outline(areas: np.ndarray, tolerance_deg: float, hole_deg2: float) -> np.ndarray:
    """Service areas (WGS-84) as drawn: without the holes smaller than ``hole_deg2`` (the
    blocks between reachable streets, which would only clutter the map), simplified."""
    out = []
    for area in areas:
        parts = shapely.get_parts(area)
        n_holes = shapely.get_num_interior_rings(parts)
        owner = np.repeat(np.arange(len(parts)), n_holes)
        index = np.arange(len(owner)) - np.repeat(np.cumsum(n_holes) - n_holes, n_holes)
        rings = shapely.get_interior_ring(parts[owner], index)
        big = shapely.area(shapely.polygons(rings)) >= hole_deg2
        rings, owner = rings[big], owner[big]
        cuts = np.searchsorted(owner, np.arange(len(parts) + 1))
        shells = shapely.get_exterior_ring(parts)
        kept = [shapely.Polygon(shells[j], rings[cuts[j] : cuts[j + 1]]) for j in range(len(parts))]
        out.append(shapely.MultiPolygon(kept) if kept else shapely.Polygon())
    return shapely.simplify(np.array(out, dtype=object), tolerance_deg, preserve_topology=False)


def _add_facilities(group: folium.FeatureGroup, district: _District, cat_id: str) -> int:
    """A category's facilities as dots with their name, source and capacity; dots drawn."""
    fac = district.facilities[district.facilities["category_id"] == cat_id]
    if not len(fac):
        return 0
    std, lang = district.std, district.lang
    colour = CATEGORY_COLOURS[std.category_ids.index(cat_id) % len(CATEGORY_COLOURS)]
    style = {"radius": 5, "color": "#fff", "weight": 1.5, "fillColor": colour}
    style |= {"fillOpacity": 1, "className": "circles-facility"}
    capacity = pd.to_numeric(fac["capacity"], errors="coerce")
    props = {
        "k": ["f"] * len(fac),
        "name": fac["name"].fillna(tr("unknown", lang)).astype(str).tolist(),
        "category": [std.category(cat_id).name(lang)] * len(fac),
        "source": [str(label(s, lang)) for s in fac["source"]],
        "capacity": [None if pd.isna(c) else f"{c:g}" for c in capacity],
    }
    layer = DataLayer(
        geojson(for_display(fac.geometry.values, district.tiles), props), {"f": style}, "k"
    )
    fields = ["name", "category", "source", "capacity"]
    aliases = [tr(f, lang) for f in fields]
    TextGeoJsonTooltip(fields, aliases).add_to(layer)
    TextGeoJsonTooltip(fields, aliases, bind="Popup").add_to(layer)
    layer.add_to(group)
    return len(fac)


def add_network(fmap: folium.Map, saved: SavedAnalysis) -> int:
    """The walking network as a light basemap (maps without tiles); returns lines drawn."""
    edges = saved.layer("network_edges").to_crs(saved.crs)
    merged = shapely.line_merge(shapely.MultiLineString(list(edges.geometry.values)))
    lines = shapely.simplify(shapely.get_parts(merged), 4.0)
    lines = gpd.GeoSeries(lines, crs=saved.crs).to_crs(4326).values
    style = {"color": "#9e9e9e", "weight": 1, "opacity": 0.7, "className": "circles-network"}
    Lines(lines, style).add_to(fmap)
    return len(lines)


def _add_labels(fmap: folium.Map, district: _District) -> int:
    """Community names written on the map from zoom 14 (maps without tiles); names written."""
    names = district.communities["name"]
    points = shapely.point_on_surface(district.shapes)
    labels = [
        (round(p.y, 5), round(p.x, 5), str(n))
        for p, n in zip(points, names, strict=True)
        if pd.notna(n) and not p.is_empty
    ]
    Labels(labels, "circles-label", 14).add_to(fmap)
    streets = _streets(district.saved)
    if len(streets):
        outlines = shapely.get_parts(shapely.boundary(streets.geometry.values))
        style = {"color": "#555", "weight": 2, "dashArray": "8 4", "className": "circles-street"}
        Lines(outlines, style).add_to(fmap)
        points = shapely.point_on_surface(streets.geometry.values)
        named = [
            (round(p.y, 5), round(p.x, 5), str(n))
            for p, n in zip(points, streets["name"], strict=True)
            if pd.notna(n)
        ]
        Labels(named, "circles-street-label", 11).add_to(fmap)
        labels += named
    css = (
        ".circles-label,.circles-street-label{background:none;border:none;box-shadow:none;"
        "color:#333;font:12px sans-serif;text-shadow:0 0 3px #fff,0 0 3px #fff}"
        ".circles-street-label{font:bold 15px sans-serif;color:#222}"
        ".circles-label:before,.circles-street-label:before{display:none}"
    )
    fmap.get_root().header.add_child(folium.Element(f"<style>{css}</style>"))
    return len(labels)


def _streets(saved: SavedAnalysis) -> gpd.GeoDataFrame:
    """The analysis' 街道 (WGS-84), when ``--boundaries`` gave them; else none."""
    if saved.streets is None:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    return saved.streets.to_crs(4326)


def _add_title(fmap: folium.Map, district: _District) -> None:
    """The title at the top: district, standards, data date."""
    summary, std, lang = district.saved.summary, district.std, district.lang
    title = (
        f"{html.escape(district.part.name)} · {html.escape(std.name(lang))} · "
        f"{tr('data_date', lang)}{_colon(lang)}"
        f"{html.escape(summary['input']['data_date'] or tr('unknown', lang))}"
    )
    fixed_html(fmap, f"<b>{title}</b>", "top:8px;left:50px")


def _swatch(style: dict, text: str) -> str:
    """One legend row: a box drawn in a Leaflet style, and its (escaped) text."""
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    border = "dashed" if style.get("dashArray") else "solid"
    width = max(1, round(style.get("weight", 1)))
    size = "width:14px;height:12px"
    if "radius" in style:
        size = f"width:{2 * style['radius']}px;height:{2 * style['radius']}px;border-radius:50%"
    box = (
        f"display:inline-block;{size};margin:1px 5px 1px 0;vertical-align:middle;"
        f"background:{fill};border:{width}px {border} {style.get('color', fill)}"
    )
    return f'<div><span style="{box}"></span>{text}</div>'


def _legend(district: _District, cat_id: str, basis: str, cells: gpd.GeoDataFrame) -> str:
    """A category's legend: share classes (target marked), outlines, neutral styles, gap
    cells, service areas, facilities, and the data basis."""
    lang, std = district.lang, district.std
    rule = std.main_access_rule(cat_id)
    cat = std.category(cat_id)
    parts = [f"<div><b>{html.escape(cat.name(lang))}</b></div>"]
    if rule is not None:
        counted = tr(f"counted_{_counted(district.communities, rule)[0]}", lang)
        parts.append(f"<div>{html.escape(rule.name(lang))}</div>")
        parts.append(f"<div>{_bracket(tr('share', lang), counted, lang)}</div>")
        classes = share_classes(rule.target_share)
        for (_, text), colour in zip(classes, class_colours(len(classes) - 1), strict=True):
            text = text if not text.startswith("≥") else f"{text} · {tr('target_met', lang)}"
            parts.append(_swatch({"fillColor": colour, "color": colour}, text))
        target = f"{tr('target', lang)}{_colon(lang)}{rule.target_share:.0%}"
        parts.append(f"<div><i>{target}</i></div>")
        parts.append(f"<div><b>{tr('outline', lang)}</b></div>")
        parts += [_swatch(OUTLINES[s] | {"fill": False}, tr(s, lang)) for s in ("pass", "fail")]
    neutral = {"beyond": tr("beyond_unit", lang), "no_data": tr("no_data", lang)}
    neutral["not_evaluated"] = tr("not_evaluated", lang)
    parts += [_swatch(NEUTRAL_STYLES[k], text) for k, text in neutral.items()]
    if rule is not None:
        parts.append(f"<div><b>{tr('gap', lang)}</b></div>")
        no_data = f"<div><i>{tr('no_data', lang)}</i></div>"
        parts += [no_data] if basis == tr("no_data", lang) else _gap_legend(cells, lang)
    parts.append(f"<div><b>{tr('areas', lang)}</b></div>")
    parts += [
        _swatch({"color": c, "fill": False, "weight": 2}, f"≤ {m} {tr('minutes', lang)}")
        for m, c in RING_COLOURS.items()
    ]
    colour = CATEGORY_COLOURS[std.category_ids.index(cat_id) % len(CATEGORY_COLOURS)]
    parts.append(_swatch({"fillColor": colour, "color": "#fff"}, tr("facilities", lang)))
    parts.append(f"<div>{tr('basis', lang)}{_colon(lang)}{html.escape(basis)}</div>")
    if rule is not None and basis != tr("no_data", lang):
        parts += _worst_rows(district, rule)
    return "".join(parts)


def _counted(communities: pd.DataFrame, rule: AccessRule) -> tuple[str, pd.Series]:
    """Who the rule counts per community and how many, as ``rule_weights`` counts them: its
    population (elderly, children) where every community gives it, else all residents."""
    if rule.population in communities:
        values = pd.to_numeric(communities[rule.population], errors="coerce")
        if not values.isna().any():
            return rule.population, values
    return "total", pd.to_numeric(communities["population"], errors="coerce")


def _worst_rows(district: _District, rule: AccessRule, top: int = 5) -> list[str]:
    """The ``top`` communities with the most residents beyond reach (counted as the rule
    counts them), as legend rows: the side panel of the worst places."""
    lang, communities = district.lang, district.communities
    share = pd.to_numeric(communities.get(f"{rule.id}.value"), errors="coerce")
    counted = _counted(communities, rule)[1]
    uncovered = (counted * (1 - share)).where(share.notna())
    worst = uncovered[uncovered >= 0.5].sort_values(ascending=False).head(top)
    if worst.empty:
        return []
    rows = [f"<div><b>{tr('worst_units', lang)}</b></div>"]
    for i in worst.index:
        name = communities.at[i, "name"]
        name = tr("unknown", lang) if pd.isna(name) else str(name)
        people = f"{uncovered[i]:,.0f} {tr('residents', lang)}"
        text = _bracket(people, f"{share[i]:.0%}", lang)
        rows.append(f"<div>{html.escape(name)}{_colon(lang)}{text}</div>")
    return rows


def _gap_legend(cells: gpd.GeoDataFrame, lang: str) -> list[str]:
    """Legend rows of the gap cells: residents per cell by class, and the cell's size."""
    if cells.empty:
        return [f"<div><i>0 {tr('residents', lang)}</i></div>"]
    breaks = _gap_breaks(cells["people"].to_numpy())
    bounds = [0.0, *breaks]
    rows = []
    for i, style in enumerate(_gap_styles(len(breaks)).values()):
        last = i == len(breaks)
        text = f"≥ {bounds[i]:,.0f}" if last else f"{bounds[i]:,.0f} – {bounds[i + 1]:,.0f}"
        rows.append(_swatch(style, f"{text} {tr('residents', lang)}"))
    size = cells["size_m"].iloc[0]
    cell = f"{tr('cell', lang)}{_colon(lang)}{size * np.sqrt(3):,.0f} {tr('m', lang)}"
    rows.append(f"<div><i>{cell}</i></div>")
    return rows


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


def write_district_maps(
    saved: SavedAnalysis,
    out: Path,
    district: str = "all",
    category: str = "all",
    tiles: str = "osm",
    lang: str = "zh",
    level: str = "district",
) -> tuple[list[Path], dict[str, dict[str, int]]]:
    """Write one HTML map per district (or, ``level="street"``, per 街道) and an
    ``index.html`` linking them.

    Raises
    ------
    InputError
        Unknown district, category or basemap; 天地图 without its key.
    """
    _chosen_districts(saved.summary, district)
    categories = _chosen_categories(saved.standards.category_ids, category)
    parts = saved.parts(level)
    out.mkdir(parents=True, exist_ok=True)
    written, counts = [], {}
    for part in parts:
        fmap, n = district_map(saved, categories, tiles, lang, part)
        name = part.stem + ".html"
        save_map(fmap, out / name)
        written.append(out / name)
        counts[name] = n
    index = _index_html(written, [{"name": p.name} for p in parts], lang)
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
        raise InputError(say("out_unknown_district", district=district, known=known))
    return districts


def _chosen_categories(ids: list[str], category: str) -> list[str]:
    """The category ids that ``category`` (an id or ``all``) names."""
    if category == "all":
        return ids
    if category in ids:
        return [category]
    raise InputError(say("out_unknown_category_or_all", category=category, known=", ".join(ids)))


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
# siting maps (score, recommend)
# ---------------------------------------------------------------------------------------------

MIN_EXTENT_DEG = 0.012  # a siting map shows at least about 1.2 km


def sites_map(
    saved: SavedAnalysis,
    sites: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    title: str,
    lang: str = "zh",
    uncovered: gpd.GeoDataFrame | None = None,
    tiles: str = "osm",
) -> folium.Map:
    """A map of proposed sites, their 5/10/15-minute service areas and the homes they reach.

    Parameters
    ----------
    saved
        The analysis (its walking network is drawn when there are no tiles).
    sites
        Points with ``rank``, ``name`` and score columns (WGS-84).
    areas
        Service-area polygons with ``rank`` and ``minutes`` (WGS-84).
    homes, uncovered
        Demand points newly covered / still uncovered.
    existing
        Existing facilities of the category.
    tiles
        The basemap (``osm``, ``tianditu``, ``amap`` or ``none``).
    """
    fmap = base_map(tiles)
    if tiles == "none":
        add_network(fmap, saved)
    _fit_sites(fmap, sites, areas, tiles)
    fixed_html(fmap, f"<b>{html.escape(title)}</b>", "top:8px;left:50px")
    shapes = for_display(areas.geometry.values, tiles)
    styles = {str(m): {"color": c, "fillColor": c, "weight": 1, "fillOpacity": 0.2}
              for m, c in RING_COLOURS.items()}  # fmt: skip
    props = {"k": [str(int(m)) for m in areas["minutes"]], "rank": areas["rank"].tolist()}
    props["minutes"] = [f"{m} {tr('minutes', lang)}" for m in areas["minutes"]]
    ring_layer = DataLayer(geojson(shapes, props), styles, "k", name=tr("areas", lang))
    TextGeoJsonTooltip(["rank", "minutes"], [tr("rank", lang), tr("areas", lang)]).add_to(
        ring_layer
    )
    ring_layer.add_to(fmap)
    for key, frame, radius in (("uncovered", uncovered, 1.5), ("homes", homes, 2.5)):
        if frame is not None and not frame.empty:
            add_points(fmap, frame, tr(key, lang), HOME_COLOURS[key], radius, tiles)
    if not existing.empty:
        add_points(fmap, existing, tr("existing", lang), "#999", 6, tiles, names=True)
    _add_sites(fmap, sites, lang, tiles)
    TextLayerControl(collapsed=False).add_to(fmap)
    _sites_legend(fmap, lang)
    return fmap


def _fit_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, tiles: str):
    """Zoom to the sites' service areas, never to less than ``MIN_EXTENT_DEG``."""
    shapes = for_display(np.concatenate([areas.geometry.values, sites.geometry.values]), tiles)
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_x = max(maxx - minx, MIN_EXTENT_DEG) / 2
    half_y = max(maxy - miny, MIN_EXTENT_DEG) / 2
    fmap.fit_bounds([[cy - half_y, cx - half_x], [cy + half_y, cx + half_x]])


def add_points(
    fmap: folium.Map,
    points: gpd.GeoDataFrame,
    name: str,
    colour: str,
    radius: float,
    tiles: str,
    names: bool = False,
) -> None:
    """Points in one colour, a layer of their own (named on hover with ``names``)."""
    style = {"radius": radius, "weight": 1 if names else 0, "color": "#333"}
    style |= {"fillColor": colour, "fillOpacity": 0.9 if names or radius > 2 else 0.45}
    props = {"k": ["p"] * len(points)}
    if names:
        props["name"] = points["name"].fillna("").astype(str).tolist()
    layer = DataLayer(geojson(for_display(points.geometry.values, tiles), props), {"p": style}, "k",
                      name=name)  # fmt: skip
    if names:
        TextGeoJsonTooltip(["name"], labels=False).add_to(layer)
    layer.add_to(fmap)


def _add_sites(fmap: folium.Map, sites: gpd.GeoDataFrame, lang: str, tiles: str) -> None:
    """The sites as red dots with their rank on hover and their scores in a popup (headers
    as in the sites' table)."""
    fields = [c for c in sites.columns if c != "geometry"]
    props = {f: [_cell(f, v) for v in sites[f]] for f in fields}
    props["k"] = ["s"] * len(sites)
    props["label"] = [f"#{r}" for r in sites["rank"]]
    style = {"radius": 9, "color": "#fff", "weight": 2, "fillColor": "#d7191c", "fillOpacity": 1}
    data = geojson(for_display(sites.geometry.values, tiles), props)
    layer = DataLayer(
        data, {"s": style | {"className": "circles-site"}}, "k", name=tr("sites", lang)
    )
    TextGeoJsonTooltip(["label"], labels=False).add_to(layer)
    aliases = [HEADERS[f][0 if lang == "zh" else 1] if f in HEADERS else f for f in fields]
    TextGeoJsonTooltip(fields, aliases, bind="Popup").add_to(layer)
    layer.add_to(fmap)


def _cell(field: str, value: object) -> str | None:
    """A site's value as its popup shows it: degrees to 6 decimals, other numbers whole."""
    if isinstance(value, float | np.floating):
        return (
            None
            if np.isnan(value)
            else f"{value:.6f}"
            if field in ("lon", "lat")
            else f"{value:,.0f}"
        )
    return None if value is None else str(value)


def _sites_legend(fmap: folium.Map, lang: str) -> None:
    """The siting map's legend: sites, rings, homes newly covered and still beyond, existing."""
    rows = [_swatch({"radius": 7, "fillColor": "#d7191c", "color": "#fff"}, tr("sites", lang))]
    rows += [
        _swatch({"fillColor": c, "color": c}, f"≤ {m} {tr('minutes', lang)}")
        for m, c in RING_COLOURS.items()
    ]
    rows += [
        _swatch({"radius": 3, "fillColor": c, "color": c}, tr(k, lang))
        for k, c in HOME_COLOURS.items()
    ]
    rows.append(_swatch({"radius": 5, "fillColor": "#999", "color": "#333"}, tr("existing", lang)))
    fixed_html(fmap, "".join(rows), "bottom:44px;left:8px")


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
    tiles: str = "osm",
) -> gpd.GeoDataFrame:
    """Draw sites with their 5/10/15-minute service areas and the homes they reach.

    ``rank_dist`` pairs each site's rank with its walking distance to every routing node.
    Returns the service areas drawn (WGS-84).
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
    areas = areas[~areas.is_empty].sort_values("minutes", ascending=False)
    demand = saved.layer("demand_points")
    facilities = saved.layer("facilities")
    existing = facilities[facilities["category_id"] == category_id]
    uncovered = demand.iloc[uncovered_idx] if uncovered_idx is not None else None
    homes = demand.iloc[homes_idx]
    fmap = sites_map(saved, sites, areas, homes, existing, title, lang, uncovered, tiles)
    save_map(fmap, path)
    return areas
