"""How outputs look: colours, share classes and community styles, credit, data authority."""

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
