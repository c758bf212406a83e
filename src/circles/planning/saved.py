"""A saved analysis folder, loaded for scoring, recommending and maps."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from circles.access.state import STATE_FILE, AccessState, load_state
from circles.errors import InputError
from circles.folders import safe_name, verify_folder
from circles.messages import say
from circles.standards import Standards

STANDARDS_FILE = "standards.json"
ANALYSIS_FILES = ("analysis.gpkg", "summary.json", STATE_FILE, STANDARDS_FILE)


@dataclass(frozen=True)
class Part:
    """A part of an analysis a map or figure is drawn for: the district, or one 街道."""

    id: str
    name: str
    area_m: shapely.Geometry  # metric, inside the study area
    level: str = "district"

    @property
    def stem(self) -> str:
        """A safe file name for its map or figure: the district's id, or ``street-`` with the
        街道's name and id (names come from data: made safe, never trusted)."""
        text = self.id if self.level == "district" else f"street-{self.name}-{self.id}"
        return safe_name(re.sub(r"[^\w\-]+", "_", text), limit=120)


@dataclass
class SavedAnalysis:
    """An analysis folder: its standards, its access state, its summary and layers."""

    folder: Path
    standards: Standards
    state: AccessState
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # layers, baselines kept

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

    def parts(self, level: str = "district") -> list[Part]:
        """The district, or (``level="street"``) each 街道 of ``--boundaries`` clipped to the
        study area.

        Raises
        ------
        InputError
            Streets asked for an analysis run without street boundaries.
        """
        district = self.summary["district"]
        if level == "district":
            return [Part(str(district["id"]), str(district["name"]), self.study_area_m)]
        if self.streets is None:
            raise InputError(say("out_no_streets", folder=self.folder))
        streets = self.streets.to_crs(self.crs)
        areas = shapely.intersection(streets.geometry.values, self.study_area_m)
        return [
            Part(str(i), str(n) if n is not None else str(i), a, "street")
            for i, n, a in zip(streets["unit_id"], streets["name"], areas, strict=True)
            if not a.is_empty
        ]

    @cached_property
    def streets(self) -> gpd.GeoDataFrame | None:
        """The 街道 the analysis was given (``--boundaries``), WGS-84; ``None`` without."""
        import pyogrio

        if "streets" not in pyogrio.list_layers(self.folder / "analysis.gpkg")[:, 0]:
            return None
        return self.layer("streets")

    def layer(self, name: str, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """A layer of ``analysis.gpkg`` (communities, facilities, ...), WGS-84, optionally
        only some ``columns``; read once, a copy given each time (a map or figure per 街道
        reads the same layers)."""
        key = ("layer", name, None if columns is None else tuple(columns))
        if key not in self.memo:
            path = self.folder / "analysis.gpkg"
            self.memo[key] = gpd.read_file(path, layer=name, columns=columns)
        return self.memo[key].copy()


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
        msg = say("out_not_analysis", folder=folder, state=STATE_FILE, standards=STANDARDS_FILE)
        raise InputError(msg)
    verify_folder(folder, ANALYSIS_FILES)
    state = load_state(folder / STATE_FILE)
    try:
        standards = Standards.model_validate_json(
            (folder / STANDARDS_FILE).read_text(encoding="utf-8")
        )
    except (OSError, ValueError) as exc:
        raise InputError(say("out_cannot_read", file=folder / STANDARDS_FILE, error=exc)) from None
    return SavedAnalysis(folder=folder, standards=standards, state=state)
