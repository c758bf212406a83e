"""The workbench's state, loaded once: an analysis and its scenario base; scoring, scenarios
and the map's layers, every engine call behind one lock (requests run in threads)."""

from __future__ import annotations

import difflib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.access.service_areas import service_areas
from circles.errors import InputError
from circles.messages import language, say
from circles.planning.saved import SavedAnalysis
from circles.planning.scenario import Action, ScenarioBase, ScenarioResult, load_base, run_scenario
from circles.planning.score import access_rules, baseline, place_site, score_site
from circles.rules.measures import meets
from circles.standards import AccessRule, CoverageRateRule, PerCapitaRule, PresenceRule

SCENARIOS_KEPT = 8  # scenario results kept for export and recommend, latest first
TOP_ROWS = 12  # streets and communities shown in the panel: the largest changes
NEAR, FAR = 0.10, 0.30  # grades: a share this far below its target is near / far
GRADES = {
    "pass": ("#1a9850", "达标", "meets the target"),
    "near": ("#fee08b", "低于目标不足10个百分点", "under 10 points below target"),
    "below": ("#fc8d59", "低于目标10–30个百分点", "10–30 points below target"),
    "far": ("#d73027", "低于目标30个百分点以上", "over 30 points below target"),
    "none": ("#d9d9d9", "无居民或无数据", "no residents or no data"),
}
SHARE_KINDS = ("access", "coverage_rate")


@dataclass
class Workbench:
    """An analysis opened for the workbench; ``load_s`` is how long opening took."""

    base: ScenarioBase
    lang: str
    load_s: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    scenarios: OrderedDict = field(default_factory=OrderedDict, repr=False)
    layers: dict = field(default_factory=dict, repr=False)  # map layers, built once
    layers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def saved(self) -> SavedAnalysis:
        """The analysis folder as loaded."""
        return self.base.saved

    def category(self, category_id: object) -> str:
        """A known category id.

        Raises
        ------
        InputError
            Missing or unknown, with the closest id.
        """
        ids = self.saved.standards.category_ids
        if category_id in ids:
            return str(category_id)
        close = difflib.get_close_matches(str(category_id), ids, n=1)
        hint = say("out_did_you_mean", close=close[0]) if close else ""
        raise InputError(say("out_unknown_category", category=category_id, hint=hint))

    def main_rule(
        self, category_id: str
    ) -> AccessRule | PresenceRule | PerCapitaRule | CoverageRateRule | None:
        """The rule a category's map is graded by: its first access rule, else its first."""
        std = self.saved.standards
        rules = std.rules_of(category_id)
        return std.main_access_rule(category_id) or (rules[0] if rules else None)

    def categories(self) -> list[dict]:
        """Every category: names, rules, the rule the map shows, its facilities."""
        std = self.saved.standards
        counts = pd.Series(self.saved.state.facilities["category"]).value_counts()
        out = []
        for cat in std.categories.categories:
            main = self.main_rule(cat.id)
            out.append(
                {
                    "id": cat.id,
                    "name": cat.name(self.lang),
                    "facilities": int(counts.get(cat.id, 0)),
                    "scorable": bool(std.access_rules(cat.id)),
                    "main_rule": None if main is None else main.id,
                    "rules": [
                        {"id": r.id, "name": r.name(self.lang), "kind": r.kind}
                        for r in std.rules_of(cat.id)
                    ],
                }
            )
        return out

    def communities_geojson(self) -> str:
        """The communities (id, name, population) as GeoJSON text, WGS-84 (kept)."""
        with self.layers_lock:
            if "communities" not in self.layers:
                com = self.base.communities[["community_id", "name", "population", "geometry"]]
                com = com.set_geometry(com.simplify(1.0)).to_crs(4326)
                self.layers["communities"] = com.to_json(drop_id=True, to_wgs84=False)
            return self.layers["communities"]

    def network_segments(self) -> bytes:
        """The walking network, the map's only basemap (the workbench works offline), as
        straight segments: little-endian int32 ``lon0, lat0, lon1, lat1`` in micro-degrees
        (OSM's street pieces are straight between their nodes; kept)."""
        with self.layers_lock:
            if "network" not in self.layers:
                edges = gpd.read_file(
                    self.saved.folder / "analysis.gpkg",
                    layer="network_edges",
                    columns=[],
                    engine="pyogrio",
                )
                xy, line = shapely.get_coordinates(edges.geometry.values, return_index=True)
                same = np.flatnonzero(line[1:] == line[:-1])
                segments = np.hstack([xy[same], xy[same + 1]])
                self.layers["network"] = np.round(segments * 1e6).astype("<i4").tobytes()
            return self.layers["network"]

    def warm(self) -> None:
        """Build the map layers and measure the first category with a walking-access rule,
        so that the page's first requests find them (run in a thread at start)."""
        self.network_segments()
        self.communities_geojson()
        first = next((c for c in self.categories() if c["scorable"]), None)
        if first is not None:
            self.grades(first["id"])
            with self.lock:
                baseline(self.saved, first["id"], self.main_rule(first["id"]))

    def facilities(self, category_id: str) -> list[dict]:
        """The category's facilities: id, name, source, WGS-84 position."""
        fac = self.base.facilities
        mine = fac[fac["category_id"] == category_id].to_crs(4326)
        return [
            {
                "facility_id": row.facility_id,
                "name": row.name if isinstance(row.name, str) else None,
                "source": row.source,
                "lon": round(row.geometry.x, 6),
                "lat": round(row.geometry.y, 6),
            }
            for row in mine.itertuples()
        ]

    def grades(self, category_id: str, result: ScenarioResult | None = None) -> dict:
        """Each community's value, status and grade under the category's main rule, as the
        analysis stands or after ``result``."""
        rule = self.main_rule(category_id)
        if rule is None:
            return {}
        when = "after" if result is not None else "before"
        with self.lock, language(self.lang):
            table = result.table if result is not None else _as_before(self.base, category_id)
        rows = table[(table["unit_level"] == "community") & (table["rule_id"] == rule.id)]
        values = pd.to_numeric(rows[f"value_{when}"], errors="coerce").to_numpy(float)
        statuses = rows[f"status_{when}"].to_numpy()
        found = grades(
            values, statuses, rule.kind, _number(rows["target"].iloc[0]) if len(rows) else None
        )
        finite = np.isfinite(values)
        return {
            str(unit): {"value": float(v) if ok else None, "status": st, "grade": g}
            for unit, v, ok, st, g in zip(
                rows["unit_id"], values, finite, statuses, found, strict=True
            )
        }

    def score(
        self, category_id: str, lon: float, lat: float, actions: Sequence[Action] = ()
    ) -> dict:
        """``score_site`` at a WGS-84 point, with ``newly_covered`` of the first rule; after
        the scenario ``actions`` if given (its walks to the category as the starting point)."""
        pair = self.scenario(actions).access.get(category_id) if actions else None
        with self.lock, language(self.lang):
            result = score_site(self.saved, category_id, lon, lat, access=pair and pair[1])
        first = result["rules"][0]
        return {"newly_covered": first["newly_covered_population"], **result}

    def areas(self, category_id: str, lon: float, lat: float) -> str:
        """The 5/10/15-minute service areas of a site as GeoJSON text."""
        std = self.saved.standards
        access_rules(self.saved, category_id)
        with self.lock:
            site = place_site(self.saved, category_id, lon, lat)
        profile = std.category_profile(category_id)
        state = self.saved.state
        areas = service_areas(state.graph, state.crs, site.node_dist_m, std, profile)
        return areas.to_json(drop_id=True)

    def scenario(self, actions: Sequence[Action]) -> ScenarioResult:
        """``run_scenario`` (the last few results kept, for export and recommend)."""
        key = json.dumps([_action_key(a) for a in actions], ensure_ascii=False)
        with self.lock, language(self.lang):
            if key in self.scenarios:
                self.scenarios.move_to_end(key)
                return self.scenarios[key]
            result = run_scenario(self.base, actions)
            self.scenarios[key] = result
            while len(self.scenarios) > SCENARIOS_KEPT:
                self.scenarios.popitem(last=False)
        return result

    def point_dist(self, category_id: str, result: ScenarioResult | None) -> np.ndarray:
        """Every demand point's walk to the category after a scenario (``inf`` beyond)."""
        pair = None if result is None else result.access.get(category_id)
        if pair is None:
            return self.saved.state.point_dist(category_id)
        return np.nan_to_num(pair[1].point_dist_m, nan=np.inf)

    def view(self, result: ScenarioResult) -> dict:
        """A scenario's effect as the panel shows it: the district rows of every rule of the
        changed categories, the streets and communities that change most, the map grades."""
        std = self.saved.standards
        table = result.table.assign(
            rule_name=result.table["rule_id"].map({r.id: r.name(self.lang) for r in std.rules})
        )
        moved = table["change"].abs().fillna(0) + (table["status_before"] != table["status_after"])
        table = table.assign(moved=moved)
        parts = {}
        for level in ("district", "street", "community"):
            rows = table[table["unit_level"] == level]
            if level != "district":
                rows = rows[rows["moved"] > 0].sort_values("moved", ascending=False)
            parts[level] = {"rows": _records(rows.head(TOP_ROWS)), "changed": len(rows)}
        categories = sorted({a.category for a in result.actions})
        return {
            "actions": [action_json(a) for a in result.actions],
            "categories": categories,
            "official_communities": self.base.official_communities,
            **parts,
            "grades": {c: self.grades(c, result) for c in categories},
        }


def open_workbench(saved: SavedAnalysis, streets: gpd.GeoDataFrame | None, lang: str) -> Workbench:
    """Load the scenario base and warm what every request uses (so that none builds it
    while another reads it)."""
    start = time.perf_counter()
    base = load_base(saved, streets)
    graph = saved.state.graph
    for name in (
        "streets",
        "point_blocks",
        "site_search",
        "_joins_by_node",
        "point_starts",
        "piece_highway",
    ):
        getattr(graph, name)
    return Workbench(base, lang, load_s=time.perf_counter() - start)


def grades(values: np.ndarray, statuses: np.ndarray, kind: str, target: float | None) -> np.ndarray:
    """Communities' grades: pass, or how far a failing share lies below the target (a rule
    that is no share: far); ``none`` without residents or data."""
    out = np.full(len(values), "none", dtype=object)
    out[statuses == "pass"] = "pass"
    fail = statuses == "fail"
    out[fail] = "far"
    if kind in SHARE_KINDS and target is not None:
        with np.errstate(invalid="ignore"):
            out[fail & meets(values, target - FAR)] = "below"
            out[fail & meets(values, target - NEAR)] = "near"
    return out


def legend(lang: str) -> list[dict]:
    """The grades with their colour and text."""
    i = 1 if lang == "zh" else 2
    return [{"grade": k, "colour": v[0], "text": v[i]} for k, v in GRADES.items()]


def action_json(action: Action) -> dict:
    """An action as the page and the API read it."""
    return {
        "action": action.kind,
        "category": action.category,
        "facility_id": action.facility_id,
        "lon": _number(action.lon),
        "lat": _number(action.lat),
        "name": action.name,
    }


def _action_key(action: Action) -> list:
    return [action.kind, action.category, action.facility_id, action.lon, action.lat, action.name]


def _as_before(base: ScenarioBase, category_id: str) -> pd.DataFrame:
    """The category judged as it stands, in the columns of a scenario table."""
    table = base.before(category_id)
    return table.rename(columns={"value": "value_before", "status": "status_before"})


def _number(value: object) -> float | None:
    """A finite number, else ``None`` (JSON has no NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _records(frame: pd.DataFrame) -> list[dict]:
    """Table rows as JSON-ready dicts (NaN as ``None``, numpy values as Python ones)."""
    frame = frame.drop(columns=["moved"]).astype(object)
    return json.loads(frame.where(frame.notna(), None).to_json(orient="records"))
