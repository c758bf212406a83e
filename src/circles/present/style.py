"""How outputs look and read: labels and texts in two languages, colours, credit, status."""

from __future__ import annotations

import numpy as np
import pandas as pd

from circles.standards import AccessRule

ATTRIBUTION = "© OpenStreetMap contributors"
RING_COLOURS = {5: "#1a9850", 10: "#f0a500", 15: "#e34a33"}
TIME_BINS = ((5, "#1a9850"), (10, "#a6d96a"), (15, "#fee08b"), (30, "#fc8d59"))
BEYOND_COLOUR = "#d73027"
OTHER_RING_COLOUR = "#91bfdb"  # a service-area ring of other than 5, 10 or 15 minutes
HOME_COLOURS = {"uncovered": "#d73027", "homes": "#4575b4"}  # siting maps
# graded maps: classes of the share within reach below the target (worst first), the target met
SHARE_CUTS = (0.5, 0.7, 0.9)
BELOW_TARGET_COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b")
TARGET_COLOUR = "#1a9850"
NEUTRAL_STYLES = {  # communities a rule's share does not describe
    "beyond": {"fillColor": "#969696", "fillOpacity": 0.45, "color": "#525252", "weight": 1},
    "no_data": {"fillColor": "#ffffff", "fillOpacity": 0.5, "color": "#737373", "weight": 1,
                "dashArray": "4 3"},
    "not_evaluated": {"fillColor": "#d9d9d9", "fillOpacity": 0.5, "color": "#969696",
                      "weight": 1, "dashArray": "1 3"},
}  # fmt: skip
OUTLINES = {  # pass / fail of the rule, drawn as the community's outline
    "pass": {"color": "#00441b", "weight": 2.5},
    "fail": {"color": "#67000d", "weight": 1, "dashArray": "5 3"},
}
GAP_COLOURS = ("#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f")  # uncovered residents
CATEGORY_COLOURS = [
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#8dd3c7",
    "#80b1d3",
    "#fccde5",
    "#bc80bd",
    "#ffed6f",
]
# labels of stable value ids (statuses, unit levels, data bases) in every output
VALUES = {
    "pass": ("达标", "pass"),
    "fail": ("未达标", "fail"),
    "no_data": ("无数据", "no data"),
    "not_evaluated": ("未评估", "not evaluated"),
    "incomplete": ("数据不全", "incomplete data"),
    "community": ("社区", "community"),
    "compound": ("小区/居住街坊", "residential compound"),
    "planner": ("规划部门数据", "planner's data"),
    "checked": ("OSM（规划部门已核实）", "OSM, checked by the planner"),
    "indicative": ("参考（OSM数据可能不完整）", "indicative (OSM may be incomplete)"),
    "street": ("街道", "street"),
    "village": ("行政村", "village"),
    "villages": ("个行政村", "villages"),
    "district": ("区", "district"),
    "residents": ("人", "residents"),
    "elderly": ("名60岁以上老人", "residents aged 60+"),
    "children": ("名儿童", "children"),
    "facilities": ("处", "facilities"),
    "communities": ("个社区", "communities"),
    "places": ("个托位/床位", "places"),
    "m2": ("平方米", "m²"),
    "access": ("步行可达", "walking access"),
    "presence": ("单元配置", "presence per unit"),
    "per_capita": ("人均指标", "per-capita supply"),
    "coverage_rate": ("覆盖率", "coverage rate"),
    "unnamed": ("未命名", "unnamed"),
    "osm": ("OSM", "OSM"),
    "planner+osm": ("规划部门数据（与OSM匹配）", "planner's data, matched in OSM"),
    True: ("是", "yes"),
    False: ("否", "no"),
}


def label(key: object, lang: str) -> object:
    """Display label of a stable value id in ``zh`` or ``en``; unknown values pass through."""
    pair = VALUES.get(key) if isinstance(key, str | bool) else None
    return pair[0 if lang == "zh" else 1] if pair else key


TEXT = {
    "sites": ("选址", "Sites"),
    "areas": ("步行服务范围", "Walking service areas"),
    "homes": ("新覆盖居民点", "Newly covered homes"),
    "uncovered": ("仍未覆盖居民点", "Still uncovered homes"),
    "existing": ("现有设施", "Existing facilities"),
    "minutes": ("分钟", "min"),
    "communities": ("社区达标情况", "Communities"),
    "facilities": ("设施", "Facilities"),
    "walk_time": ("步行时间", "Walking time"),
    "beyond": ("超出搜索范围", "beyond search limit"),
    "network": ("步行路网", "Walking network"),
    "population": ("人口", "population"),
    "estimated": ("估算", "estimated"),
    "source": ("来源", "source"),
    "capacity": ("规模", "capacity"),
    "category": ("类别", "category"),
    "shortfall": ("缺口", "shortfall"),
    "standards": ("标准", "standards"),
    "data_date": ("数据日期", "data date"),
    "basis": ("数据依据", "data basis"),
    "unknown": ("未知", "unknown"),
    "index": ("各区地图", "District maps"),
    "rule": ("规则", "rule"),
    "share": ("步行可达比例", "share within reach"),
    "target": ("目标", "target"),
    "result": ("结果", "result"),
    "counted": ("计入人口", "residents counted"),
    "counted_total": ("常住人口", "all residents"),
    "counted_elderly": ("60岁以上人口", "residents aged 60+"),
    "counted_children": ("儿童", "children"),
    "name": ("名称", "name"),
    "gap": ("缺口：未覆盖人口", "Gap: residents not within reach"),
    "gap_cell": ("每格未覆盖人口", "residents not within reach per cell"),
    "outline": ("轮廓：达标 / 未达标", "outline: pass / fail"),
    "target_met": ("达到目标", "target met"),
    "beyond_unit": ("搜索范围内无设施", "no facility within the search limit"),
    "cell": ("格", "cell"),
    "m": ("米", "m"),
    "rank": ("排名", "rank"),
    "profile_by_district": (
        "按所选区县选用标准：{district}（{profile}）",
        "Standards chosen for the district: {district} ({profile})",
    ),
    "profile_outside": (
        "标准 {profile} 不是为 {district} 制定的（适用于 {codes}）；该区县适用的标准为 {fits}，"
        "可用 --standards {fits} 选用",
        "standards profile {profile} is not written for {district} (it applies to {codes}); "
        "the profile for this district is {fits}: give --standards {fits}",
    ),
    "chosen_given": ("由 --standards 指定", "given with --standards"),
    "chosen_district": ("按所选区县选用", "chosen for the district"),
    "chosen_default": ("默认", "the default"),
}


def tr(key: str, lang: str) -> str:
    """The text of ``key`` (a map text, else a value label) in Chinese (``zh``) or English."""
    return TEXT[key][0 if lang == "zh" else 1] if key in TEXT else str(label(key, lang))


def category_authority(summary: dict, category_id: str) -> str:
    """What a category's data rests on, from ``summary.json``: ``planner``, ``checked``,
    ``indicative`` or ``no_data`` (``indicative`` for an analysis that did not record it)."""
    for cat in summary.get("categories", []):
        if cat["category_id"] == category_id:
            return cat.get("authority", "no_data" if cat["data"] == "no_data" else "indicative")
    return "no_data"


def share_classes(target: float) -> list[tuple[float, str]]:
    """Upper bounds and labels of the classes of a share below ``target``, worst first; the
    last class, ``target`` and above, has the bound ``inf``. Maps and figures use them."""
    bounds = [c for c in SHARE_CUTS if c < target - 1e-9] + [target]
    labels, low = [], 0.0
    for high in bounds:
        if low == 0:
            labels.append(f"< {high:.0%}")
        elif high == target:
            labels.append(f"{low:.0%} – < {high:.0%}")
        else:
            labels.append(f"{low:.0%} – {high:.0%}")
        low = high
    return [*zip(bounds, labels, strict=True), (np.inf, f"≥ {target:.0%}")]


def class_colours(n_below: int) -> list[str]:
    """Colours of ``n_below`` classes below the target (worst first), then the target's."""
    return [*BELOW_TARGET_COLOURS[len(BELOW_TARGET_COLOURS) - n_below :], TARGET_COLOUR]


def community_keys(
    communities: pd.DataFrame, beyond: pd.Series, rule: AccessRule | None
) -> pd.Series:
    """Each community's style key for a category's main access ``rule``: ``<class>|<pass or
    fail>`` (the class of its share, ``share_classes``), or a neutral one: ``beyond`` (no
    home reaches the category within the search limit), ``no_data``, ``not_evaluated``."""
    if rule is None:
        return pd.Series("not_evaluated", index=communities.index)
    status = communities.get(f"{rule.id}.status", pd.Series("no_data", index=communities.index))
    value = pd.to_numeric(communities.get(f"{rule.id}.value"), errors="coerce")
    bounds = [b for b, _ in share_classes(rule.target_share)]
    klass = np.searchsorted(bounds, value.fillna(0).to_numpy(), side="right")
    keys = pd.Series([f"{k}|{s}" for k, s in zip(klass, status, strict=True)], communities.index)
    keys[value.isna() | (status == "no_data")] = "no_data"
    keys[beyond.to_numpy() & (status != "no_data").to_numpy()] = "beyond"
    keys[status == "not_evaluated"] = "not_evaluated"
    return keys


def beyond_reach(communities: pd.DataFrame, demand: pd.DataFrame, cat_id: str) -> pd.Series:
    """Whether none of a community's homes reaches the category within the search limit."""
    reached = pd.to_numeric(demand[f"dist_m.{cat_id}"], errors="coerce").notna()
    any_reached = reached.groupby(demand["community_id"]).any()
    ids = communities["community_id"]
    return ~ids.map(any_reached).fillna(False).astype(bool)
