"""A scenario exported: its actions as CSV (WGS-84, plus the datum of the planner's file) and
GeoJSON, its before/after table as XLSX; downloaded, or written into a new folder."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import pandas as pd

from circles.errors import InputError
from circles.folders import MANIFEST, result_folder
from circles.messages import label, say
from circles.planning.scenario import ScenarioBase, ScenarioResult
from circles.present.compare import SHEETS, actions_table, compare_table, write_comparison
from circles.present.tables import sheet_name
from circles.sources.coords import datum_columns

SCENARIO_FILES = ("scenario.csv", "scenario.geojson")


def scenario_csv(result: ScenarioResult, datum: str = "wgs84") -> str:
    """One row per action: ``action``, ``category``, ``facility_id``, ``name``, ``lon``,
    ``lat`` (WGS-84; read back by ``circles compare --plan``), and ``<datum>_lon``,
    ``<datum>_lat`` when the planner's file was in GCJ-02 or BD-09 (``datum_columns``)."""
    frame = pd.DataFrame(
        [
            {"action": a.kind, "category": a.category, "facility_id": a.facility_id}
            | {"name": a.name, "lon": a.lon, "lat": a.lat}
            for a in result.actions
        ],
        columns=["action", "category", "facility_id", "name", "lon", "lat"],
    )
    placed = frame["lon"].notna().to_numpy()  # adds and moves; a close has no place
    lon, lat = frame["lon"].to_numpy(float)[placed], frame["lat"].to_numpy(float)[placed]
    for name, values in datum_columns(lon, lat, [datum]).items():
        frame.loc[placed, name] = values
    return frame.to_csv(index=False)


def scenario_geojson(base: ScenarioBase, result: ScenarioResult) -> str:
    """The added and moved-to sites and the closed and moved-from facilities (WGS-84)."""
    keep = ["facility_id", "category_id", "name", "geometry"]
    added = result.added[keep].assign(
        action=[result.actions[i].kind for i in result.added["action"]], change="added"
    )
    closed = base.facilities.iloc[result.closed][keep].assign(change="removed")
    moved = {a.facility_id for a in result.actions if a.kind == "move"}
    closed["action"] = ["move" if f in moved else "close" for f in closed["facility_id"]]
    both = gpd.GeoDataFrame(pd.concat([added, closed], ignore_index=True), crs=base.saved.crs)
    return both.to_crs(4326).to_json(drop_id=True, to_wgs84=False)


def compare_xlsx(base: ScenarioBase, result: ScenarioResult, lang: str) -> bytes:
    """The before/after table (district, streets, communities) and the plan, as XLSX."""
    i = 0 if lang == "zh" else 1
    table = compare_table(base, result, lang)
    level = result.table["unit_level"].to_numpy()
    unit = "community" if base.official_communities else "compound"
    sheets = {name[i]: table[level == key] for key, name in SHEETS.items()}
    sheets[str(label(unit, lang))] = table[level == "community"]
    sheets[("方案", "plan")[i]] = actions_table(result, lang)
    named: dict[str, pd.DataFrame] = {}
    for name, frame in sheets.items():
        if len(frame):
            named[sheet_name(name, named)] = frame  # Excel's rules for sheet names
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        for name, frame in named.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def export_folder(
    base: ScenarioBase, result: ScenarioResult, folder: str, datum: str, lang: str
) -> list[str]:
    """Write the scenario (``scenario.csv``, ``scenario.geojson``) and its comparison (the
    files of ``circles compare``) into a new folder, all or nothing; the files written.

    Raises
    ------
    InputError
        The path is not absolute, exists and is not an empty folder, or lies inside the
        analysis folder (or holds it).
    """
    target = Path(folder).expanduser()
    if not target.is_absolute():
        raise InputError(say("out_export_relative", folder=folder))
    target = target.resolve()
    analysis = base.saved.folder.resolve()
    if target.is_relative_to(analysis) or analysis.is_relative_to(target):
        raise InputError(say("out_export_in_analysis", target=target, analysis=analysis))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(say("out_export_exists", target=target))
    with result_folder(target, "serve", [base.saved.folder / MANIFEST]) as tmp:
        (tmp / "scenario.csv").write_text(scenario_csv(result, datum), encoding="utf-8-sig")
        (tmp / "scenario.geojson").write_text(scenario_geojson(base, result), encoding="utf-8")
        write_comparison(base, result, tmp, lang)
    return sorted(p.name for p in target.iterdir())
