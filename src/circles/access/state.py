"""The access state of an analysis (routing graph, searches, demand, facilities) and its one
saved form, ``access.npz``: what the analysis computed is what scoring and maps load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from circles.access.graph import RoutingGraph
from circles.access.search import CategoryAccess
from circles.errors import InputError
from circles.messages import say

STATE_FILE = "access.npz"
# 1: circles 0.1 before the routing graph was saved whole (no version key); 2: one join per
# demand point; 3: several joins per demand point and facility (graph.point_owner, ...);
# 4: homes join facilities across their block, and where homes are (graph.point_xy)
FORMAT_VERSION = 4
DEMAND_ARRAYS = ("connector_m", "population", "elderly", "children", "community")
COMMUNITY_ARRAYS = ("community_id", "name", "population")
FACILITY_ARRAYS = ("facility_id", "category", "source", "in_area")


@dataclass
class AccessState:
    """Everything the walking-access searches of one analysis know.

    Attributes
    ----------
    crs, study_area_m
        The metric CRS and the study area (not the buffered read area) in it.
    graph
        The routing graph.
    access
        One search result per category id.
    demand
        Per demand point: ``connector_m`` (to the nearest street; every join's connector is
        in ``graph.point_connector_m``), ``population``, ``elderly`` and ``children``
        (``NaN`` where unknown) and ``community`` (row in ``communities``).
    communities
        Per community: ``community_id``, ``name`` and ``population``.
    facilities
        Per facility (graph order): ``facility_id``, ``category``, ``source``, ``in_area``.
    """

    crs: CRS
    study_area_m: shapely.Geometry
    graph: RoutingGraph
    access: dict[str, CategoryAccess]
    demand: dict[str, np.ndarray]
    communities: dict[str, np.ndarray]
    facilities: dict[str, np.ndarray]

    def point_dist(self, category_id: str) -> np.ndarray:
        """Walking distance of every demand point to the category, ``inf`` beyond the limit."""
        dist = self.access[category_id].point_dist_m
        return np.where(np.isnan(dist), np.inf, dist)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The state as named arrays (``from_arrays`` rebuilds the same state)."""
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "crs_wkt": np.array(self.crs.to_wkt()),
            "study_area_wkb": np.frombuffer(shapely.to_wkb(self.study_area_m), dtype=np.uint8),
        }
        arrays |= {f"graph.{k}": v for k, v in self.graph.to_arrays().items()}
        for group in ("demand", "communities", "facilities"):
            arrays |= {f"{group}.{k}": v for k, v in getattr(self, group).items()}
        for cat_id, acc in self.access.items():
            arrays[f"access.{cat_id}.node_dist_m"] = acc.node_dist_m
            arrays[f"access.{cat_id}.point_dist_m"] = acc.point_dist_m
            arrays[f"access.{cat_id}.nearest_facility"] = acc.nearest_facility
            arrays[f"access.{cat_id}.limit_m"] = np.array(acc.limit_m)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> AccessState:
        """The state saved by ``to_arrays``."""

        def group(prefix: str) -> dict[str, np.ndarray]:
            return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

        categories = {k.split(".")[1] for k in arrays if k.startswith("access.")}
        access = {
            cat: CategoryAccess(
                node_dist_m=arrays[f"access.{cat}.node_dist_m"],
                point_dist_m=arrays[f"access.{cat}.point_dist_m"],
                nearest_facility=arrays[f"access.{cat}.nearest_facility"],
                limit_m=float(arrays[f"access.{cat}.limit_m"]),
            )
            for cat in sorted(categories)
        }
        return cls(
            crs=CRS.from_wkt(str(arrays["crs_wkt"])),
            study_area_m=shapely.from_wkb(arrays["study_area_wkb"].tobytes()),
            graph=RoutingGraph.from_arrays(group("graph.")),
            access=access,
            demand=group("demand."),
            communities=group("communities."),
            facilities=group("facilities."),
        )

    def save(self, path: Path) -> None:
        """Write the state to ``path`` (an ``.npz`` file)."""
        np.savez(path, **self.to_arrays())


def load_state(path: str | Path) -> AccessState:
    """Read ``access.npz``.

    Raises
    ------
    InputError
        When the file is unreadable, not a circles state, or of another format version.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise InputError(say("run_state_unreadable", path=path, reason=exc)) from None
    version = int(arrays["format_version"]) if "format_version" in arrays else None
    if version != FORMAT_VERSION:
        found = (
            say("run_state_old")
            if version is None and "indptr" in arrays
            else say("run_state_none")
            if version is None
            else say("run_state_version", version=version)
        )
        msg = say(
            "run_state_format", path=path, found=found, file=STATE_FILE, version=FORMAT_VERSION
        )
        raise InputError(msg)
    try:
        return AccessState.from_arrays(arrays)
    except (KeyError, ValueError) as exc:
        raise InputError(say("run_state_incomplete", path=path, reason=exc)) from None
