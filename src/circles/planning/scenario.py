"""Scenarios: add, close and move facilities in a saved analysis and judge every rule of the
changed categories again, before against after, per community, street (街道) and district.

``load_base`` reads what the rules need once; ``run_scenario`` is then a function of the base
and a list of actions (a web app calls it per request; ``circles compare`` once). A category's
walking distances after the plan are exact: added sites join the streets as ``analyze`` joins
a point facility, and a close runs the category's multi-source search again.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from circles.access.search import CategoryAccess, nearest_facility, site_walks
from circles.errors import InputError
from circles.messages import say
from circles.model.communities import street_of
from circles.planning.saved import SavedAnalysis
from circles.planning.score import reach_site
from circles.rules.evaluate import RESULT_COLUMNS, evaluate_rules
from circles.sources.planner_files import category_labels, normalise
from circles.standards import AccessRule, Standards

MAX_ACTIONS = 1_000
KINDS = {
    "add": "add",
    "new": "add",
    "新增": "add",
    "增加": "add",
    "close": "close",
    "remove": "close",
    "关闭": "close",
    "撤销": "close",
    "move": "move",
    "relocate": "move",
    "迁移": "move",
    "搬迁": "move",
}
PLANNED = "planner"  # the source of an added site: a planner's record
COMPARED = ("value", "status", "shortfall", "median_time_min", "worst_time_min", "facilities")


@dataclass(frozen=True)
class Action:
    """One change: ``add`` a site of a category at ``lon``/``lat`` (WGS-84), ``close`` the
    facility ``facility_id``, or ``move`` it to ``lon``/``lat`` (a close and an add that keeps
    its name, capacity and floor area). ``label`` names it in errors (e.g. ``plan.csv, row 3``).
    """

    kind: str
    category: str | None = None
    lon: float | None = None
    lat: float | None = None
    facility_id: str | None = None
    name: str | None = None
    capacity: float = np.nan
    area_m2: float = np.nan
    label: str = ""


@dataclass
class ScenarioBase:
    """What a scenario is judged on, loaded once from an analysis folder (metric CRS)."""

    saved: SavedAnalysis
    communities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None
    official_communities: bool
    to_metric: Transformer = field(repr=False)
    area_m: shapely.Geometry = field(repr=False)  # the study area grown by 1 m, prepared
    judged: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def before(self, category: str) -> pd.DataFrame:
        """Every rule of a category judged on the analysis as it is (kept once judged)."""
        if category not in self.judged:
            std = _standards_of(self.saved.standards, [category])
            access = {category: self.saved.state.access[category]}
            self.judged[category] = _judge(self, std, self.facilities, access)
        return self.judged[category]

    @property
    def district(self) -> tuple[str, str, shapely.Geometry]:
        """``(id, name, study area)`` of the district."""
        d = self.saved.summary["district"]
        return d["id"], d["name"], self.saved.study_area_m


def load_base(saved: SavedAnalysis, streets: gpd.GeoDataFrame | None = None) -> ScenarioBase:
    """Read the communities, demand points and facilities of an analysis for scenarios.

    Parameters
    ----------
    saved
        The loaded analysis folder.
    streets
        Street (街道) polygons with ``unit_id`` and ``name`` (``read_boundaries``' street rows),
        any CRS; ``None``: per-street rules are not evaluated, as in an analysis without them.
    """
    crs, state = saved.crs, saved.state
    communities = saved.layer("communities").to_crs(crs)
    keep = ["community_id", "population", "population_estimated", "population_calibrated"]
    demand = gpd.read_file(  # only the columns the rules read: a fifth of the time
        saved.folder / "analysis.gpkg", layer="demand_points", columns=keep, engine="pyogrio"
    )
    demand = demand.to_crs(crs).assign(
        elderly=state.demand["elderly"], children=state.demand["children"]
    )
    facilities = saved.layer("facilities").to_crs(crs)
    if len(facilities) != len(state.facilities["facility_id"]) or len(demand) != len(
        state.demand["population"]
    ):
        raise InputError(say("out_files_differ", folder=saved.folder))
    return ScenarioBase(
        saved=saved,
        communities=communities,
        demand=demand,
        facilities=facilities,
        streets=None if streets is None else streets.to_crs(crs).reset_index(drop=True),
        official_communities=saved.summary.get("units") == "community",
        to_metric=Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        area_m=_prepared(saved.study_area_m.buffer(1.0)),
    )


def _prepared(geometry: shapely.Geometry) -> shapely.Geometry:
    shapely.prepare(geometry)
    return geometry


def check_actions(base: ScenarioBase, actions: Sequence[Action]) -> list[Action]:
    """The actions with their kind and category as ids, every one checked.

    Raises
    ------
    InputError
        Listing every bad action by its label: an unknown action or category (with the closest
        name), a close or move without ``facility_id`` or with an unknown one, a facility
        closed twice, an add or move without coordinates or outside the study area, and more
        than ``MAX_ACTIONS`` actions.
    """
    if len(actions) > MAX_ACTIONS:
        raise InputError(say("out_plan_too_many", n=len(actions), max=MAX_ACTIONS))
    errors: list[str] = []
    checked, closed = [], set()
    for i, action in enumerate(actions):
        label = action.label or say("out_action_n", n=i + 1)
        try:
            action = _checked(base, replace(action, label=label))
        except InputError as exc:
            errors.append(say("out_action_error", label=label, error=exc))
            continue
        if action.kind != "add" and action.facility_id in closed:
            twice = say("out_closed_twice", id=action.facility_id)
            errors.append(say("out_action_error", label=label, error=twice))
        closed.add(action.facility_id)
        checked.append(action)
    if errors:
        head = [say("out_bad_actions", n=len(errors))] if len(errors) > 1 else []
        raise InputError("\n".join(head + errors[:15] + _more(len(errors) - 15)))
    return checked


def _more(n: int) -> list[str]:
    return [say("out_more", n=n)] if n > 0 else []


def _checked(base: ScenarioBase, action: Action) -> Action:
    """One action with its kind and category as ids (raises ``InputError`` if it is bad)."""
    if _blank(action.kind):
        raise InputError(say("out_action_missing"))
    kind = KINDS.get(normalise(action.kind))
    if kind is None:
        raise InputError(say("out_unknown_action", kind=action.kind))
    category = None if _blank(action.category) else _category(base.saved.standards, action)
    if kind in ("close", "move"):
        category = _facility_category(base, action, category)
    elif category is None:
        raise InputError(say("out_category_missing"))
    if kind in ("add", "move"):
        _check_position(base, action)
    facility = None if _blank(action.facility_id) else str(action.facility_id)
    return replace(action, kind=kind, category=category, facility_id=facility)


def _kind(action: Action) -> dict[str, str]:
    """An action's kind as a message says it: as written (English) and named (Chinese)."""
    kind = KINDS.get(normalise(action.kind), "add")
    return {"kind": action.kind, "kind_text": say(f"out_kind_{kind}")}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == ""


def _category(standards: Standards, action: Action) -> str:
    """The category id an action names (id, Chinese or English name, alias)."""
    labels = category_labels(standards)
    found = labels.get(normalise(action.category))
    if found is None:
        close = difflib.get_close_matches(normalise(action.category), list(labels), n=1)
        hint = say("out_did_you_mean_named", close=close[0], name=labels[close[0]]) if close else ""
        raise InputError(say("out_unknown_category", category=action.category, hint=hint))
    return found


def _facility_category(base: ScenarioBase, action: Action, category: str | None) -> str:
    """The category of the facility a close or move names (checked against ``category``)."""
    if _blank(action.facility_id):
        raise InputError(say("out_needs_facility_id", **_kind(action)))
    ids = base.saved.state.facilities["facility_id"]
    rows = np.flatnonzero(ids == str(action.facility_id))
    if not len(rows):
        close = difflib.get_close_matches(str(action.facility_id), ids.tolist(), n=1)
        hint = say("out_did_you_mean", close=close[0]) if close else ""
        raise InputError(say("out_unknown_facility", id=action.facility_id, hint=hint))
    if len(rows) > 1:
        raise InputError(say("out_facility_ambiguous", id=action.facility_id, n=len(rows)))
    own = str(base.saved.state.facilities["category"][rows[0]])
    if category is not None and category != own:
        name = {c: base.saved.standards.category(c).name("zh") for c in (own, category)}
        msg = say(
            "out_facility_other_category",
            id=action.facility_id,
            own=own,
            category=category,
            own_name=name[own],
            category_name=name[category],
        )
        raise InputError(msg)
    return own


def _check_position(base: ScenarioBase, action: Action) -> None:
    """A site's coordinates: numbers, inside the study area."""
    try:
        lon, lat = float(action.lon), float(action.lat)
    except (TypeError, ValueError):
        lon = lat = np.nan
    if not np.isfinite([lon, lat]).all():
        msg = say("out_needs_lonlat", **_kind(action), lon=action.lon, lat=action.lat)
        raise InputError(msg)
    xy = shapely.Point(base.to_metric.transform(lon, lat))
    if not base.area_m.contains(xy):
        raise InputError(say("out_outside_analysed", lon=lon, lat=lat))


@dataclass
class ScenarioResult:
    """A scenario's effect.

    ``table`` has one row per unit (community, street, district) and rule of the changed
    categories: its measures before and after (``value_before``, ``value_after``, ...);
    ``actions`` the checked actions; ``access`` per changed category the search before and
    after; ``added`` the added sites (metric, with ``action`` and ``category_id``);
    ``closed`` the rows of the closed facilities in the analysis's facilities.
    """

    table: pd.DataFrame
    actions: list[Action]
    access: dict[str, tuple[CategoryAccess, CategoryAccess]]
    added: gpd.GeoDataFrame
    closed: np.ndarray

    def district(self) -> pd.DataFrame:
        """The district rows (one per rule)."""
        return self.table[self.table["unit_level"] == "district"].reset_index(drop=True)


def run_scenario(base: ScenarioBase, actions: Sequence[Action]) -> ScenarioResult:
    """Apply a plan to an analysis and judge every rule of the changed categories again.

    Each changed category's walking distances are found anew (one multi-source search when
    a facility closes, else the old distances against bounded searches from the new sites);
    the rules are then judged by the same code as ``circles analyze``, before and after.
    The changed categories count as the planner's lists (authoritative): closing a
    category's last facility leaves its residents beyond reach, not "no data".

    Raises
    ------
    InputError
        A bad action (``check_actions``).
    """
    actions = check_actions(base, actions)
    state = base.saved.state
    gone = [a.facility_id for a in actions if a.kind != "add"]
    closed = np.flatnonzero(np.isin(state.facilities["facility_id"], gone))
    added = _added_sites(base, actions)
    categories = sorted({a.category for a in actions})
    access = {
        cat: (state.access[cat], _category_after(base, cat, closed, added)) for cat in categories
    }
    std = base.saved.standards
    after_fac = pd.concat(
        [base.facilities.drop(index=closed), added.drop(columns="action")], ignore_index=True
    )
    before = pd.concat([base.before(c) for c in categories], ignore_index=True)
    after = _judge(
        base,
        _standards_of(std, categories, authoritative=True),
        after_fac,
        {c: a[1] for c, a in access.items()},
    )
    return ScenarioResult(_before_after(before, after), actions, access, added, closed)


def _added_sites(base: ScenarioBase, actions: list[Action]) -> gpd.GeoDataFrame:
    """The sites added and moved to, as facility rows (metric): a moved facility keeps its
    id, name, source, capacity and floor area."""
    fac = base.facilities.set_index("facility_id")
    rows = []
    for i, a in enumerate(actions):
        if a.kind == "close":
            continue
        row = {"facility_id": f"scenario:{i + 1}", "name": a.name, "source": PLANNED}
        row |= {"capacity": a.capacity, "area_m2": a.area_m2}
        if a.kind == "move":
            old = fac.loc[a.facility_id]
            row |= {k: old[k] for k in ("name", "source", "capacity", "area_m2")}
            row["facility_id"] = a.facility_id
        xy = base.to_metric.transform(float(a.lon), float(a.lat))
        rows.append(row | {"action": i, "category_id": a.category, "geometry": shapely.Point(xy)})
    columns = ["facility_id", "category_id", "name", "source", "capacity", "area_m2", "action"]
    frame = pd.DataFrame(rows, columns=[*columns, "geometry"])
    added = gpd.GeoDataFrame(frame, geometry="geometry", crs=base.saved.crs)
    return added.assign(in_area=added.intersects(base.saved.study_area_m))


def _category_after(
    base: ScenarioBase, category: str, closed: np.ndarray, added: gpd.GeoDataFrame
) -> CategoryAccess:
    """The category's search after the plan: again from its open facilities if one closes,
    then the nearer of that and each added site (searched to the category's search limit)."""
    saved = base.saved
    graph, old = saved.state.graph, saved.state.access[category]
    mine = saved.state.facilities["category"] == category
    acc = old
    if mine[closed].any():
        open_rows = np.flatnonzero(mine & ~np.isin(np.arange(len(mine)), closed))
        acc = nearest_facility(graph, open_rows, old.limit_m)
    sites = added[added["category_id"] == category]
    if sites.empty:
        return acc
    node = acc.node_dist_m.copy()
    walk = np.where(np.isnan(acc.point_dist_m), np.inf, acc.point_dist_m)
    nearest = acc.nearest_facility.copy()
    for k, geom in zip(sites.index, sites.geometry, strict=True):
        reach = reach_site(saved, np.array([geom.x, geom.y]), old.limit_m)
        node = np.minimum(node, reach.node_dist_m)
        site_walk = site_walks(graph, reach, old.limit_m)
        nearer = site_walk < walk
        walk[nearer], nearest[nearer] = site_walk[nearer], len(mine) + k
    return CategoryAccess(node, np.where(np.isfinite(walk), walk, np.nan), nearest, old.limit_m)


def _standards_of(
    standards: Standards, categories: list[str], *, authoritative: bool = False
) -> Standards:
    """The standards with only the rules of ``categories`` (marked authoritative if asked)."""
    rules = [r for r in standards.rules if standards.category_of(r) in categories]
    marked = categories if authoritative else []
    names = sorted({*standards.analysis.authoritative, *marked})
    analysis = standards.analysis.model_copy(update={"authoritative": names})
    return standards.model_copy(update={"rules": rules, "analysis": analysis})


def _judge(
    base: ScenarioBase,
    standards: Standards,
    facilities: gpd.GeoDataFrame,
    access: dict[str, CategoryAccess],
) -> pd.DataFrame:
    """Every rule per community, street and district (``evaluate_rules``), plus the access
    rules per street (communities' rules measured over each street's residents); an empty
    table without rules."""
    if not standards.rules:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    table = evaluate_rules(
        standards,
        base.communities,
        base.demand,
        facilities,
        access,
        base.district,
        base.streets,
        official_communities=base.official_communities,
    )
    return pd.concat([table, _street_access(base, standards, facilities, access)])


def _street_access(
    base: ScenarioBase,
    standards: Standards,
    facilities: gpd.GeoDataFrame,
    access: dict[str, CategoryAccess],
) -> pd.DataFrame:
    """Access rules per street: the streets judged as communities of their residents."""
    rules = [r for r in standards.rules if isinstance(r, AccessRule) and r.unit == "community"]
    if base.streets is None or base.streets.empty or not rules:
        return pd.DataFrame()
    at = street_of(base.streets, base.demand.geometry)
    inside = at >= 0
    streets = base.streets.assign(community_id=base.streets["unit_id"])
    demand = base.demand[inside].assign(community_id=streets["unit_id"].to_numpy()[at[inside]])
    streets["population"] = (
        demand.groupby("community_id")["population"].sum().reindex(streets["unit_id"]).fillna(0)
    ).to_numpy()
    estimated = demand.groupby("community_id")["population_estimated"].any()
    streets["population_estimated"] = estimated.reindex(streets["unit_id"]).fillna(False).array
    street_access = {
        c: CategoryAccess(a.node_dist_m, a.point_dist_m[inside], a.nearest_facility, a.limit_m)
        for c, a in access.items()
    }
    table = evaluate_rules(
        standards.model_copy(update={"rules": rules}),
        streets,
        demand,
        facilities,
        street_access,
        base.district,
    )
    table = table[table["unit_level"] == "community"]
    return table.assign(unit_level="street")


def _before_after(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per unit and rule: its measures before and after, and the change of value."""
    keys = ["unit_level", "unit_id", "rule_id"]
    info = ["unit_name", "population", "kind", "category_id", "target", "shortfall_unit"]
    left = before[[*keys, *info, *COMPARED]].rename(columns={c: f"{c}_before" for c in COMPARED})
    right = after[[*keys, *COMPARED, "basis", "note"]].rename(
        columns={c: f"{c}_after" for c in COMPARED}
    )
    table = left.merge(right, on=keys, how="outer", validate="one_to_one")
    values = table[["value_before", "value_after"]].apply(pd.to_numeric, errors="coerce")
    table.insert(table.columns.get_loc("value_after") + 1, "change", values.diff(axis=1).iloc[:, 1])
    order = {"district": 0, "street": 1, "community": 2}
    table = table.sort_values(
        ["rule_id", "unit_level", "unit_id"],
        key=lambda s: s.map(order) if s.name == "unit_level" else s,
    )
    return table.reset_index(drop=True)
