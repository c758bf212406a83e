"""A saved analysis folder, loaded for scoring, recommending and maps."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from circles.access.state import STATE_FILE, AccessState, load_state
from circles.errors import InputError
from circles.folders import verify_folder
from circles.standards import Standards

STANDARDS_FILE = "standards.json"
ANALYSIS_FILES = ("analysis.gpkg", "summary.json", STATE_FILE, STANDARDS_FILE)


@dataclass
class SavedAnalysis:
    """An analysis folder: its standards, its access state, its summary and layers."""

    folder: Path
    standards: Standards
    state: AccessState
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # what scoring keeps

    @property
    def crs(self) -> CRS:
        """The metric CRS of the analysis."""
        return self.state.crs

    @property
    def study_area_m(self) -> shapely.Geometry:
        """The study area (not the buffered read area), metric."""
        return self.state.study_area_m

    def node_dist(self, category_id: str) -> np.ndarray:
        """Walking distance from the category's facilities to every routing node."""
        return self.state.access[category_id].node_dist_m

    @cached_property
    def summary(self) -> dict:
        """The analysis's ``summary.json`` (district, input, data date)."""
        return json.loads((self.folder / "summary.json").read_text(encoding="utf-8"))

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A layer of ``analysis.gpkg`` (communities, facilities, ...), WGS-84."""
        return gpd.read_file(self.folder / "analysis.gpkg", layer=name)


def load_analysis(folder: str | Path) -> SavedAnalysis:
    """Load an analysis folder written by ``circles analyze``.

    Raises
    ------
    InputError
        When the folder or its files are missing, unreadable, of another format version, or
        differ from what ``circles analyze`` wrote (its manifest): an interrupted or mixed
        folder is never read.
    """
    folder = Path(folder)
    if not (folder / STATE_FILE).is_file() or not (folder / STANDARDS_FILE).is_file():
        msg = (
            f"{folder}: not an analysis folder ({STATE_FILE} or {STANDARDS_FILE} missing). "
            "Run `circles analyze --out FOLDER` first and pass that folder to --analysis."
        )
        raise InputError(msg)
    verify_folder(folder, ANALYSIS_FILES)
    state = load_state(folder / STATE_FILE)
    try:
        standards = Standards.model_validate_json(
            (folder / STANDARDS_FILE).read_text(encoding="utf-8")
        )
    except (OSError, ValueError) as exc:
        msg = f"{folder / STANDARDS_FILE}: cannot read ({exc}). Run `circles analyze` again."
        raise InputError(msg) from None
    return SavedAnalysis(folder=folder, standards=standards, state=state)
