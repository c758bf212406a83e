"""The data basis of each category: whether any facility is known ("no data" otherwise) and
whether the facilities come from OSM, the planner's files or both. Decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NO_DATA = "no_data"


@dataclass(frozen=True)
class CategoryBasis:
    """What is known of one category's facilities.

    ``facilities`` counts every facility read (the study area and its buffer, all of which
    residents can walk to); ``in_area`` those inside the study area, which count for presence
    and per-capita supply; ``source`` is ``no_data``, ``osm``, ``planner`` or ``osm+planner``.
    """

    facilities: int
    in_area: int
    source: str

    @property
    def no_data(self) -> bool:
        """No facility of the category is known: a rule on it measures nothing, and missing
        data is never reported as a gap."""
        return self.facilities == 0


def category_bases(
    category_ids: list[str],
    category: np.ndarray,
    source: np.ndarray,
    in_area: np.ndarray | None = None,
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
        out[cat_id] = CategoryBasis(n, int((mine & inside).sum()), kind)
    return out
