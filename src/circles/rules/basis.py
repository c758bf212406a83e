"""The data basis of each category, decided once: which facilities are known, whether the data
is authoritative (the planner's list, or OSM the planner has checked) or only indicative (OSM,
possibly incomplete), and "no data" when nothing is known and nothing is authoritative.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

NO_DATA = "no_data"
PLANNER, CHECKED, INDICATIVE = "planner", "checked", "indicative"


@dataclass(frozen=True)
class CategoryBasis:
    """What is known of one category's facilities.

    ``facilities`` counts every facility read (the study area and its buffer, all of which
    residents can walk to); ``in_area`` those inside the study area, which count for presence
    and per-capita supply; ``source`` is ``no_data``, ``osm``, ``planner`` or ``osm+planner``;
    ``authoritative`` says that the list is complete: the planner's own file covers the
    category, or the planner has checked OSM for it.
    """

    facilities: int
    in_area: int
    source: str
    authoritative: bool = False

    @property
    def no_data(self) -> bool:
        """Nothing known and nothing authoritative: a rule on it measures nothing, and missing
        data is never reported as a gap."""
        return self.facilities == 0 and not self.authoritative

    @property
    def authority(self) -> str:
        """``planner`` (the planner's list), ``checked`` (OSM checked by the planner),
        ``indicative`` (OSM only, possibly incomplete) or ``no_data``."""
        if self.no_data:
            return NO_DATA
        if self.source in ("planner", "osm+planner"):
            return PLANNER
        return CHECKED if self.authoritative else INDICATIVE


def category_bases(
    category_ids: list[str],
    category: np.ndarray,
    source: np.ndarray,
    in_area: np.ndarray | None = None,
    authoritative: Collection[str] = (),
) -> dict[str, CategoryBasis]:
    """The basis of every category.

    Parameters
    ----------
    category_ids
        All category ids of the standards.
    category, source
        Per facility: its category id and source (``osm``, ``planner``, ``planner+osm``).
    in_area
        Per facility: inside the study area (default: all).
    authoritative
        Categories the planner has checked in OSM (``--authoritative``, the profile's
        ``analysis.authoritative``); a category with a planner's record is authoritative too.
    """
    category = np.asarray(category, dtype=str)
    planner = pd.Series(source, dtype=str).str.startswith("planner").to_numpy()
    inside = np.ones(len(category), bool) if in_area is None else np.asarray(in_area, bool)
    out = {}
    for cat_id in category_ids:
        mine = category == cat_id
        n, n_planner = int(mine.sum()), int((mine & planner).sum())
        kind = (
            NO_DATA
            if n == 0
            else "planner"
            if n_planner == n
            else "osm"
            if n_planner == 0
            else "osm+planner"
        )
        checked = n_planner > 0 or cat_id in authoritative
        out[cat_id] = CategoryBasis(n, int((mine & inside).sum()), kind, checked)
    return out
