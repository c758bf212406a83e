"""Print-ready static gap maps (A4 landscape, 300 dpi, PNG and PDF) with Chinese text."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import matplotlib as mpl
import shapely
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib_scalebar.scalebar import ScaleBar

from circles.errors import CirclesError, InputError
from circles.messages import say, tr
from circles.planning.saved import Part, SavedAnalysis
from circles.present.style import (
    ATTRIBUTION,
    NEUTRAL_STYLES,
    OUTLINES,
    beyond_reach,
    class_colours,
    community_keys,
    share_classes,
)
from circles.present.tables import atomic_write
from circles.standards import AccessRule

A4_LANDSCAPE_IN = (11.69, 8.27)
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
FACILITY_COLOUR = "#1f4e9c"  # the category's facilities on print maps
NETWORK_COLOUR = "#b0b0b0"  # streets on print maps
HAN = re.compile(r"[\u3400-\u9fff]")


def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, preferring Simplified Chinese faces."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _font_for(texts: list[str]) -> list[str]:
    if not any(HAN.search(t) for t in texts):
        return ["DejaVu Sans"]
    found = cjk_font()
    if found is None:
        raise CirclesError(say("out_no_cjk_font"))
    return [found, "DejaVu Sans"]


def gap_figure(
    saved: SavedAnalysis, category_id: str, lang: str = "zh", part: Part | None = None
) -> Figure:
    """The district's (or a 街道's, ``part``) gap map for one category on an A4 landscape
    page.

    Call it, and save the figure, inside ``matplotlib.rc_context({"font.family": ...})`` with
    the fonts of ``figure_fonts`` so that Chinese text has glyphs.

    Raises
    ------
    InputError
        Unknown category.
    """
    std = saved.standards
    if category_id not in std.category_ids:
        known = ", ".join(std.category_ids)
        raise InputError(say("out_unknown_category_of", category=category_id, known=known))
    part = part or saved.parts()[0]
    title = _figure_title(saved, category_id, lang, part.name)
    rule = std.main_access_rule(category_id)
    fig = Figure(figsize=A4_LANDSCAPE_IN, dpi=300)
    ax = fig.subplots()
    _draw_layers(ax, saved, category_id, rule, part)
    minx, miny, maxx, maxy = part.area_m.bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_axis_off()
    fig.suptitle(title, x=0.02, ha="left", fontsize=13)  # the page's width, not the map's
    _draw_scale_and_north(ax)
    _draw_legend(ax, std.category(category_id).name(lang), rule, lang)
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", va="bottom", fontsize=7, color="#333")
    fig.tight_layout()
    return fig


def _figure_title(saved: SavedAnalysis, category_id: str, lang: str, where: str) -> str:
    """Two title lines: district (or 街道) and category, then standards and data date."""
    std, summary = saved.standards, saved.summary
    title = (
        f"{where} — {std.category(category_id).name(lang)}"
        f"{'步行可达缺口' if lang == 'zh' else ': walking-access gaps'}"
    )
    colon = "：" if lang == "zh" else ": "
    subtitle = (
        f"{tr('standards', lang)}{colon}{std.name(lang)} · {tr('data_date', lang)}{colon}"
        f"{summary['input']['data_date'] or tr('unknown', lang)}"
    )
    return f"{title}\n{subtitle}"


def _draw_layers(
    ax: Axes, saved: SavedAnalysis, category_id: str, rule: AccessRule | None, part: Part
) -> None:
    """Study-area outline, street network, communities graded as on the HTML maps (the
    share within reach of the category's main rule in classes around its target, pass /
    fail as the outline, neutral styles where the share says nothing), the facilities."""
    communities = saved.layer("communities").to_crs(saved.crs)
    inner = communities.representative_point().values
    communities = communities[shapely.covers(part.area_m, inner)].reset_index(drop=True)
    edges = saved.layer("network_edges").to_crs(saved.crs)
    facilities = saved.layer("facilities").to_crs(saved.crs)
    demand = saved.layer("demand_points", ["community_id", f"dist_m.{category_id}"])
    beyond = beyond_reach(communities, demand, category_id)
    keys = community_keys(communities, beyond, rule)
    area = gpd.GeoSeries([part.area_m], crs=saved.crs)
    area.boundary.plot(ax=ax, color="#666", linewidth=0.6, linestyle="--")
    edges.plot(ax=ax, color=NETWORK_COLOUR, linewidth=0.25)
    for key, style in _figure_styles(rule).items():
        shown = communities[keys.to_numpy() == key]
        if len(shown):
            shown.plot(ax=ax, zorder=2, **style)
    fac = facilities[facilities["category_id"] == category_id]
    if len(fac):
        fac.plot(
            ax=ax,
            color=FACILITY_COLOUR,
            markersize=22,
            marker="o",
            edgecolor="white",
            linewidth=0.6,
            zorder=5,
        )


def _figure_styles(rule: AccessRule | None) -> dict[str, dict]:
    """matplotlib styles of every community key: the map's colours and outlines."""
    styles = {key: _mpl_style(style) for key, style in NEUTRAL_STYLES.items()}
    if rule is not None:
        classes = share_classes(rule.target_share)
        for i, colour in enumerate(class_colours(len(classes) - 1)):
            for status, outline in OUTLINES.items():
                style = {"fillColor": colour, "fillOpacity": 0.8} | outline
                styles[f"{i}|{status}"] = _mpl_style(style)
    return styles


def _mpl_style(style: dict) -> dict:
    """A Leaflet path style as GeoPandas plot keywords."""
    return {
        "facecolor": style.get("fillColor", "none") if style.get("fill", True) else "none",
        "alpha": None,
        "edgecolor": style.get("color", "#444"),
        "linewidth": style.get("weight", 1) * 0.4,
        "linestyle": "--" if style.get("dashArray") else "-",
    }


def _draw_scale_and_north(ax: Axes) -> None:
    """A metric scale bar at the lower left and a north arrow at the upper right."""
    ax.add_artist(ScaleBar(1, "m", location="lower left", box_alpha=0.8))
    ax.annotate(
        "N",
        xy=(0.965, 0.95),
        xytext=(0.965, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=14,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
    )


def _draw_legend(ax: Axes, category_name: str, rule: AccessRule | None, lang: str) -> None:
    """Legend: the rule, its share classes (the target marked), pass / fail outlines, the
    neutral styles, the category's facilities, the street network."""
    handles = []
    if rule is not None:
        classes = share_classes(rule.target_share)
        for (_, text), colour in zip(classes, class_colours(len(classes) - 1), strict=True):
            text = f"{text} · {tr('target_met', lang)}" if text.startswith("≥") else text
            handles.append(Patch(facecolor=colour, edgecolor="#444", label=text))
        for status in ("pass", "fail"):
            style = _mpl_style(OUTLINES[status] | {"fill": False})
            handles.append(Patch(**style, label=tr(status, lang)))
    neutral = {"beyond": "beyond_unit", "no_data": "no_data", "not_evaluated": "not_evaluated"}
    for key, style in NEUTRAL_STYLES.items():
        handles.append(Patch(**_mpl_style(style), label=tr(neutral[key], lang)))
    handles.append(
        Line2D([], [], marker="o", linestyle="", color=FACILITY_COLOUR, label=category_name)
    )
    handles.append(Line2D([], [], color=NETWORK_COLOUR, label=tr("network", lang)))
    title = None if rule is None else f"{rule.name(lang)}\n{tr('share', lang)}"
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),  # beside the map, not over it
        fontsize=9,
        framealpha=0.9,
        title=title,
        title_fontsize=9,
    )


def write_figures(
    saved: SavedAnalysis, out: Path, category_id: str, lang: str = "zh", level: str = "district"
) -> list[Path]:
    """Write the gap map of a category as ``<district>-<category>.png`` and ``.pdf``; with
    ``level="street"``, one pair per 街道 (``street-<id>-<category>``)."""
    std = saved.standards
    parts = saved.parts(level)
    texts = [std.name(lang), *(p.name for p in parts)]
    if category_id in std.category_ids:
        texts.append(std.category(category_id).name(lang))
    paths = []
    with mpl.rc_context({"font.family": _font_for(texts)}):
        for part in parts:
            fig = gap_figure(saved, category_id, lang, part)
            for suffix in (".png", ".pdf"):
                path = out / f"{part.stem}-{category_id}{suffix}"
                atomic_write(path, lambda t, s=suffix, f=fig: f.savefig(t, format=s[1:], dpi=300))
                paths.append(path)
    return paths
