"""Write outputs (GeoPackage, CSV for Excel, JSON) atomically, in the planner's language."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from circles.access.state import STATE_FILE
from circles.folders import refuse_overwriting, result_folder
from circles.messages import label
from circles.planning.saved import STANDARDS_FILE
from circles.present.exports import COUNTED, with_input_datums, write_exports
from circles.present.rankings import RankingLayers, rankings

if TYPE_CHECKING:
    from circles.result import Analysis

HEADERS = {
    "unit_level": ("层级", "level"),
    "unit_id": ("单元编号", "unit id"),
    "unit_name": ("单元名称", "unit name"),
    "population": ("人口", "population"),
    "population_estimated": ("人口为估算", "population estimated"),
    "rule_id": ("规则编号", "rule id"),
    "rule_name": ("规则", "rule"),
    "kind": ("规则类型", "rule kind"),
    "category_id": ("设施类别编号", "category id"),
    "category_name": ("设施类别", "category"),
    "threshold_m": ("步行距离阈值(米)", "threshold (m)"),
    "threshold_min": ("步行时间阈值(分钟)", "threshold (min)"),
    "profile": ("步速人群", "walking profile"),
    "target": ("目标", "target"),
    "value": ("现状值", "value"),
    "status": ("结果", "result"),
    "shortfall": ("缺口", "shortfall"),
    "shortfall_unit": ("缺口单位", "shortfall unit"),
    "median_dist_m": ("步行距离中位数(米)", "median distance (m)"),
    "worst_dist_m": ("最远步行距离(米)", "worst distance (m)"),
    "median_time_min": ("步行时间中位数(分钟)", "median time (min)"),
    "worst_time_min": ("最长步行时间(分钟)", "worst time (min)"),
    "reached_share": ("搜索范围内人口占比", "share reached within search limit"),
    "facilities": ("设施数", "facilities"),
    "basis": ("数据依据", "data basis"),
    "source": ("依据", "source"),
    "note": ("说明", "note"),
    "rank": ("排名", "rank"),
    "name": ("名称", "name"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "nearest_existing_m": ("距最近现有设施(米)", "nearest existing facility (m)"),
    "newly_covered_population": ("新覆盖人口", "newly covered population"),
    "cumulative_population": ("累计新覆盖人口", "cumulative newly covered"),
    "newly_covered": ("新覆盖人口", "newly covered"),
    "communities_newly_passing": ("新达标社区数", "communities newly passing"),
    "site_id": ("编号", "id"),
    "community": ("所在社区", "community"),
    "compound": ("所在小区", "residential compound"),
    "street": ("所在街道", "street (街道)"),
    "gcj02_lon": ("经度(GCJ-02 高德/腾讯)", "lon (GCJ-02, Amap/Tencent)"),
    "gcj02_lat": ("纬度(GCJ-02 高德/腾讯)", "lat (GCJ-02, Amap/Tencent)"),
    "bd09_lon": ("经度(BD-09 百度)", "lon (BD-09, Baidu)"),
    "bd09_lat": ("纬度(BD-09 百度)", "lat (BD-09, Baidu)"),
}


def gaps_table(analysis: Analysis) -> pd.DataFrame:
    """The result table with names, citations and headers in the analysis language."""
    lang, std = analysis.lang, analysis.standards
    table = analysis.results.copy()
    names = {c.id: c.name(lang) for c in std.categories.categories}
    rules = {r.id: r for r in std.rules}
    table.insert(
        table.columns.get_loc("rule_id") + 1,
        "rule_name",
        table["rule_id"].map(lambda r: rules[r].name(lang)),
    )
    table.insert(
        table.columns.get_loc("category_id") + 1, "category_name", table["category_id"].map(names)
    )
    table["source"] = table["rule_id"].map(lambda r: rules[r].source.cite())
    unnamed = table["unit_name"].isna()
    table.loc[unnamed, "unit_name"] = label("unnamed", lang) + " (" + table["unit_id"] + ")"
    table["profile"] = table["profile"].map(
        lambda p: std.profiles[p].name(lang) if isinstance(p, str) and p in std.profiles else p
    )
    if analysis.summary.get("units") == "compound":  # OSM residential compounds, not 社区
        table["unit_level"] = table["unit_level"].replace("community", "compound")
    for column in ("unit_level", "kind", "status", "shortfall_unit", "population_estimated"):
        table[column] = table[column].map(lambda v: label(v, lang))
    table["basis"] = table["basis"].map(lambda v: label(v, lang))
    for column, digits in (
        ("population", 0),
        ("shortfall", 1),
        ("value", 4),
        ("threshold_m", 0),
        ("threshold_min", 1),
        ("median_dist_m", 0),
        ("worst_dist_m", 0),
        ("median_time_min", 1),
        ("worst_time_min", 1),
        ("reached_share", 3),
    ):
        table[column] = pd.to_numeric(table[column], errors="coerce").round(digits)
    level_order = {"district": 0, "community": 1}
    rule_order = {r.id: i for i, r in enumerate(std.rules)}
    order = np.lexsort(
        (
            analysis.results["unit_name"].fillna("").astype(str).to_numpy(),
            analysis.results["rule_id"].map(rule_order).to_numpy(),
            analysis.results["unit_level"].map(level_order).to_numpy(),
        )
    )
    table = table.iloc[order]
    return table.rename(columns={k: v[0 if lang == "zh" else 1] for k, v in HEADERS.items()})


SUMMARY_HEADERS = {
    "category": ("设施类别", "category"),
    "facilities": ("设施数", "facilities"),
    "data": ("数据来源", "data source"),
    "basis": ("数据依据", "data basis"),
    "rule": ("规则", "rule"),
    "status": ("全区结果", "district result"),
    "value": ("全区现状值", "district value"),
    "failing": ("未达标单元数", "units failing"),
    "passing": ("达标单元数", "units passing"),
}
RANK_HEADERS = {
    "category_name": HEADERS["category_name"],
    "rule_name": HEADERS["rule_name"],
    "rank": HEADERS["rank"],
    "unit_name": HEADERS["unit_name"],
    "unit_id": HEADERS["unit_id"],
    "counted": ("计数人群", "residents counted"),
    "population": ("计数人口", "residents counted (number)"),
    "uncovered": ("未覆盖人数", "residents beyond reach"),
    "share": ("可达人口占比", "share within reach"),
    "median_time_min": HEADERS["median_time_min"],
    "worst_time_min": HEADERS["worst_time_min"],
    "nearest_facility": ("最近设施", "nearest facility"),
}
RANKED_COMMUNITIES = 10  # per category in the 排名 sheet
DATA_SOURCES = {
    "no_data": ("无数据", "no data"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "planner": ("规划部门文件", "planner's file"),
    "osm+planner": ("OpenStreetMap + 规划部门文件", "OpenStreetMap + planner's file"),
}
FAIL_FILL = "#FFC7CE"  # Excel's light red "bad" fill
HEADER_FILL = "#DDEBF7"
NUMBER_FORMATS = {"percent": "0.0%", "people": "#,##0"}
# names come from OSM, which anyone can edit: text cells stay text, never a formula or a link
XLSX_OPTIONS = {"options": {"strings_to_formulas": False, "strings_to_urls": False}}
# a CSV cell starting with one of these runs as a formula in a spreadsheet (OWASP, CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Sheet:
    """A workbook sheet: its table, and number formats of its columns (``percent`` or
    ``people``), for every row or, with a mask, for some rows (a column mixing shares and
    other values)."""

    frame: pd.DataFrame
    formats: dict[str, tuple[str, np.ndarray | None]] = field(default_factory=dict)


def write_workbook(analysis: Analysis, table: pd.DataFrame, path: Path) -> None:
    """``gaps.xlsx``: a summary sheet, the worst communities per category (排名), the streets
    per category (街道汇总, when street boundaries were given), one sheet per category with its
    rules' rows, and the run's warnings (input files, network) when there are any.

    Headers in the analysis language, header row frozen, an autofilter on every sheet, shares
    formatted as percentages and people as whole numbers, failing rows filled light red (a
    conditional format on the result column, so it follows edits and filters).

    Parameters
    ----------
    analysis
        The analysis (language, summary, standards, warnings).
    table
        Its ``gaps_table``.
    path
        The workbook to write (atomically).
    """
    i = 0 if analysis.lang == "zh" else 1
    sheets = _sheets(analysis, table)
    status_col, failing = HEADERS["status"][i], label("fail", analysis.lang)
    atomic_write(path, lambda tmp: write_sheets(tmp, sheets, status_col, failing))


def _summary_sheet(analysis: Analysis) -> Sheet:
    """One row per category and rule: facilities, data source, district result, units failing."""
    lang = analysis.lang
    i = 0 if lang == "zh" else 1
    summary_rows, shares = [], []
    for cat in analysis.summary["categories"]:
        for rule_id, r in cat["rules"].items() or {None: {}}.items():
            summary_rows.append(
                {
                    "category": cat["name_zh"] if lang == "zh" else cat["name_en"],
                    "facilities": cat["facilities"],
                    "data": DATA_SOURCES[cat["data"]][i],
                    "basis": label(cat["authority"], lang),
                    "rule": analysis.standards.rule(rule_id).name(lang) if rule_id else "",
                    "status": label(r.get("district_status", ""), lang),
                    "value": r.get("district_value"),
                    "failing": r.get("communities_failing"),
                    "passing": r.get("communities_passing"),
                }
            )
            shares.append(r.get("kind") in SHARE_KINDS)
    frame = pd.DataFrame(summary_rows).rename(columns={k: v[i] for k, v in SUMMARY_HEADERS.items()})
    return Sheet(frame, {SUMMARY_HEADERS["value"][i]: ("percent", np.array(shares, bool))})


SHARE_KINDS = ("access", "coverage_rate")  # rules whose value and target are shares


def _gaps_formats(table: pd.DataFrame, lang: str) -> dict[str, tuple[str, np.ndarray | None]]:
    """Number formats of a ``gaps_table``'s rows: shares of access and coverage rules as
    percentages, population and shortfalls in people as whole numbers."""
    i = 0 if lang == "zh" else 1
    share = table[HEADERS["kind"][i]].isin([label(k, lang) for k in SHARE_KINDS]).to_numpy()
    people_units = [label(k, lang) for k in ("residents", "elderly", "children")]
    people = table[HEADERS["shortfall_unit"][i]].isin(people_units).to_numpy()
    return {
        HEADERS["value"][i]: ("percent", share),
        HEADERS["target"][i]: ("percent", share),
        HEADERS["reached_share"][i]: ("percent", None),
        HEADERS["population"][i]: ("people", None),
        HEADERS["shortfall"][i]: ("people", people),
    }


def _sheets(analysis: Analysis, table: pd.DataFrame) -> dict[str, Sheet]:
    """The workbook's sheets by name: summary, rankings, streets, one per category, other
    rows, the units at the extract's edge (not evaluated), warnings."""
    lang = analysis.lang
    zh = lang == "zh"
    category_col = HEADERS["category_name"][0 if zh else 1]
    sheets = {("汇总" if zh else "Summary"): _summary_sheet(analysis)}
    sheets["排名" if zh else "Rankings"] = _rank_sheet(analysis, "community", RANKED_COMMUNITIES)
    if analysis.streets is not None and len(analysis.streets):
        sheets["街道汇总" if zh else "Streets"] = _rank_sheet(analysis, "street", None)
    formats = _gaps_formats(table, lang)
    for name, rows in table.groupby(category_col, sort=False):
        keep = table.index.get_indexer(rows.index)
        masked = {c: (f, None if m is None else m[keep]) for c, (f, m) in formats.items()}
        sheets[sheet_name(str(name), sheets)] = Sheet(rows, masked)
    rest = table[category_col].isna().to_numpy()
    if rest.any():
        masked = {c: (f, None if m is None else m[rest]) for c, (f, m) in formats.items()}
        sheets[sheet_name("其他" if zh else "Other", sheets)] = Sheet(table[rest], masked)
    edge = _edge_sheet(analysis)
    if len(edge):
        sheets[sheet_name("边缘（未评估）" if zh else "Edge units", sheets)] = Sheet(edge)
    if analysis.warnings:
        title = "警告" if zh else "Warnings"
        sheets[sheet_name(title, sheets)] = Sheet(pd.DataFrame({title: analysis.warnings}))
    return sheets


def rank_table(analysis: Analysis, level: str, top: int | None) -> pd.DataFrame:
    """The ranked communities or streets of every category with data and an access rule, the
    ``top`` worst of each with anyone beyond reach (all units with ``None``), with category and
    rule names (stable keys)."""
    std, lang = analysis.standards, analysis.lang
    frames, layers = [], RankingLayers.of(analysis)
    for cat in analysis.summary["categories"]:
        rule = std.main_access_rule(cat["category_id"])
        if cat["data"] == "no_data" or rule is None:
            continue
        ranked = rankings(analysis, cat["category_id"], level, layers)  # type: ignore[arg-type]
        ranked = ranked[ranked["uncovered"] >= 0.5].head(top) if top else ranked
        names = {"category_name": cat[f"name_{lang}"], "rule_name": rule.name(lang)}
        frames.append(ranked.assign(**names))
    if not frames:
        return pd.DataFrame(columns=list(RANK_HEADERS))
    return pd.concat(frames, ignore_index=True)[list(RANK_HEADERS)]


def _rank_sheet(analysis: Analysis, level: str, top: int | None) -> Sheet:
    """A ranking as a sheet: headers and the counted group in the analysis language, times
    rounded, beyond the search limit left blank."""
    i = 0 if analysis.lang == "zh" else 1
    frame = rank_table(analysis, level, top)
    frame["counted"] = frame["counted"].map(lambda c: COUNTED[c][i])
    for column in ("median_time_min", "worst_time_min"):
        times = pd.to_numeric(frame[column], errors="coerce")
        frame[column] = times.where(np.isfinite(times)).round(1)
    frame[["population", "uncovered"]] = frame[["population", "uncovered"]].round(0)
    frame["share"] = pd.to_numeric(frame["share"]).round(4)
    unnamed = frame["unit_name"].isna()
    frame.loc[unnamed, "unit_name"] = label("unnamed", analysis.lang)
    frame = frame.rename(columns={k: v[i] for k, v in RANK_HEADERS.items()})
    formats = {
        RANK_HEADERS["population"][i]: ("people", None),
        RANK_HEADERS["uncovered"][i]: ("people", None),
        RANK_HEADERS["share"][i]: ("percent", None),
    }
    return Sheet(frame, formats)


EDGE_REASON = (
    "边缘（未评估）：位于数据范围边缘的缓冲带内，范围外的设施未知",
    "edge (not evaluated): within the buffer of the extract's edge, where facilities beyond "
    "the extract are unknown",
)


def _edge_sheet(analysis: Analysis) -> pd.DataFrame:
    """The compounds at the extract's edge (``summary.json`` ``edge_units``), not evaluated:
    id, name and the reason, in the analysis language."""
    i = 0 if analysis.lang == "zh" else 1
    units = analysis.summary.get("edge_units", {}).get("units", [])
    headers = (("编号", "名称", "原因"), ("id", "name", "reason"))[i]
    return pd.DataFrame(
        {
            headers[0]: [u["community_id"] for u in units],
            headers[1]: [u.get("name") or "" for u in units],
            headers[2]: [EDGE_REASON[i]] * len(units),
        }
    )


def write_sheets(
    path: Path, sheets: dict[str, Sheet | pd.DataFrame], status_col: str, failing: str
) -> None:
    """Write the sheets (tables or ``Sheet``s with number formats): bold frozen header with an
    autofilter, fitted widths, number formats, rows failing ``status_col`` in red."""
    from xlsxwriter.utility import xl_col_to_name

    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs=XLSX_OPTIONS) as writer:
        book = writer.book
        header = book.add_format({"bold": True, "bg_color": HEADER_FILL, "border": 1})
        bad = book.add_format({"bg_color": FAIL_FILL})
        numbers = {k: book.add_format({"num_format": v}) for k, v in NUMBER_FORMATS.items()}
        for name, given in sheets.items():
            sheet = given if isinstance(given, Sheet) else Sheet(given)
            frame = sheet.frame
            frame.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
            for j, column in enumerate(frame.columns):
                ws.write(0, j, column, header)
                width = max([len(str(column))] + [len(str(v)) for v in frame[column][:200]])
                ws.set_column(j, j, min(4 + width * 1.5, 50))
            for column, (kind, rows) in sheet.formats.items():
                _format_cells(ws, frame, column, numbers[kind], rows)
            if status_col in frame and len(frame):
                col = xl_col_to_name(frame.columns.get_loc(status_col))
                ws.conditional_format(
                    1,
                    0,
                    len(frame),
                    len(frame.columns) - 1,
                    {"type": "formula", "criteria": f'=${col}2="{failing}"', "format": bad},
                )


def _format_cells(
    ws: object, frame: pd.DataFrame, column: str, fmt: object, rows: np.ndarray | None
) -> None:
    """Write a column's numbers again with a number format, in every row or where ``rows``."""
    if column not in frame:
        return
    j = frame.columns.get_loc(column)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    chosen = np.isfinite(values) & (True if rows is None else rows)
    for r in np.flatnonzero(chosen):
        ws.write_number(int(r) + 1, j, float(values[r]), fmt)


def sheet_name(name: str, taken: dict) -> str:
    """An Excel sheet name: no []:*?/\\ characters, at most 31 long, unique."""
    clean = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    out, k = clean, 2
    while out in taken:
        out = f"{clean[:28]}_{k}"
        k += 1
    return out


PEOPLE_COLUMNS = {"newly_covered_population", "cumulative_population", "newly_covered"}


def readable(
    table: pd.DataFrame, lang: str, rule_name: Callable[[str], str] | None = None
) -> pd.DataFrame:
    """A table of sites as a planner reads it: headers in ``lang`` (a column ``key.rule_id``
    headed by ``key`` and the rule's name from ``rule_name``, else its id) and people in
    whole numbers."""
    i = 0 if lang == "zh" else 1

    def header(column: str) -> str:
        key, _, rule = column.partition(".")
        text = HEADERS[key][i] if key in HEADERS else key
        if not rule:
            return text
        name = rule_name(rule) if rule_name else rule
        return f"{text}（{name}）" if lang == "zh" else f"{text} ({name})"

    people = [c for c in table.columns if c.partition(".")[0] in PEOPLE_COLUMNS]
    whole = table.assign(**{c: table[c].round().astype("Int64") for c in people})
    return whole.rename(columns={c: header(c) for c in table.columns})


def write_table(
    table: pd.DataFrame, path: Path, lang: str, rule_name: Callable[[str], str] | None = None
) -> None:
    """Write a table of sites (``readable``) as CSV for Excel (UTF-8 with BOM)."""
    write_csv(readable(table, lang, rule_name), path)


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV for Excel (UTF-8 with BOM), text cells made formula-safe."""
    safe = formula_safe(table)
    atomic_write(path, lambda tmp: safe.to_csv(tmp, index=False, encoding="utf-8-sig"))


def formula_safe(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its text cells made safe to open as CSV in a spreadsheet.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    single quote, as OWASP advises against CSV injection. A carriage return inside text
    becomes a line feed: the CSV writer quotes a cell with a line feed, but not one with a
    carriage return, which a spreadsheet reads as a new row (whose first cell could be a
    formula). Numbers (negative ones too) and other cells are left as they are.

    Parameters
    ----------
    table
        Any table; only its text (object or string dtype) columns are looked at. It is not
        changed.

    Returns
    -------
    DataFrame
        ``table`` itself when no cell needs a change, else a copy with those cells changed.
    """
    safe = table
    for j in range(table.shape[1]):
        values = table.iloc[:, j]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        risky = np.fromiter(
            (isinstance(v, str) and (v.startswith(FORMULA_START) or "\r" in v) for v in values),
            bool,
            len(values),
        )
        if risky.any():
            cells = values.to_numpy(dtype=object, copy=True)
            cells[risky] = [_safe_text(v) for v in cells[risky]]
            safe = safe.copy() if safe is table else safe
            safe.isetitem(j, pd.Series(cells, index=values.index, dtype=values.dtype))
    return safe


def _safe_text(text: str) -> str:
    """A quote before a formula's first character; carriage returns as line feeds."""
    text = "'" + text if text.startswith(FORMULA_START) else text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # some writers refuse an existing file
        write(tmp)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


OUTPUT_FILES = (
    "analysis.gpkg",
    "gaps.xlsx",
    "gaps.csv",
    "summary.json",
    STATE_FILE,
    STANDARDS_FILE,
)


def write_outputs(
    analysis: Analysis,
    out_dir: str | Path,
    extra_inputs: Sequence[Path] = (),
    formats: Sequence[str] = (),
) -> list[Path]:
    """Write an analysis folder all or nothing (see ``circles.folders.result_folder``):
    ``analysis.gpkg``, ``gaps.xlsx``, ``gaps.csv`` (UTF-8 with BOM), ``summary.json``, the
    saved state (``access.npz``, ``standards.json``) and ``manifest.json``; and with
    ``formats`` (``shp``, ``shp-gbk``, ``kml``) the layers of ``exports/`` (see
    ``circles.present.exports``).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        If an output would overwrite one of the inputs, another run writes the same folder,
        or the folder cannot be written (the previous result is then kept).
    """
    out_dir = Path(out_dir)
    inputs = [*analysis.inputs, *extra_inputs]
    refuse_overwriting(out_dir, OUTPUT_FILES, inputs)
    with result_folder(out_dir, "analyze", inputs) as folder:
        write_analysis_files(analysis, folder)
        exported = write_exports(analysis, folder, formats)
    return [out_dir / name for name in OUTPUT_FILES] + [
        out_dir / p.relative_to(folder) for p in exported
    ]


def write_analysis_files(analysis: Analysis, folder: Path) -> None:
    """Write the files of an analysis into ``folder`` (a new, private folder)."""
    layers = {
        "communities": analysis.communities,
        "facilities": with_input_datums(analysis.facilities),
        "demand_points": analysis.demand_points,
        "network_edges": analysis.network,
        "water": analysis.water,
    }
    if analysis.streets is not None:  # the planner's 街道, for rankings and sites' 街道
        layers["streets"] = analysis.streets[["unit_id", "name", "geometry"]]
    for layer, gdf in layers.items():
        gdf.to_file(folder / "analysis.gpkg", layer=layer, driver="GPKG", engine="pyogrio")
    table = gaps_table(analysis)
    write_csv(table, folder / "gaps.csv")
    write_workbook(analysis, table, folder / "gaps.xlsx")
    text = json.dumps(analysis.summary, ensure_ascii=False, indent=2, default=_json_default)
    (folder / "summary.json").write_text(text + "\n", encoding="utf-8")
    analysis.state.save(folder / STATE_FILE)
    standards_json = analysis.standards.model_dump_json(indent=1)
    (folder / STANDARDS_FILE).write_text(standards_json, encoding="utf-8")
