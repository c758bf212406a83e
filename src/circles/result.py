"""What one analysis produced: the ``Analysis`` record that outputs are written from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from circles.access.state import AccessState
from circles.standards import Lang, Standards


@dataclass
class Analysis:
    """Everything one run produced; GeoDataFrames are WGS-84.

    Attributes
    ----------
    standards, lang
        The standards profile used and the language of outputs.
    crs, study_area_m
        The metric CRS of the computation and the study area in it (not the buffered area
        that was read so that residents near the edge reach facilities across it).
    communities
        Communities with population and, per rule, ``<rule_id>.status`` / ``.value`` /
        ``.shortfall``.
    facilities
        Facilities with category, source and how they join the network.
    demand_points
        Demand points with ``dist_m.<category_id>`` and ``facility.<category_id>``.
    network, water
        Walking network edges; water areas (no candidate site goes there).
    results
        One row per unit (community, street or district) and rule.
    summary
        Run metadata, network statistics, per-category and per-rule summaries.
    state
        The access state (routing graph and searches) that ``score`` and ``recommend`` reuse.
    inputs
        Files read; outputs never overwrite them.
    streets
        The planner's street (街道) units (``unit_id``, ``name``), when boundaries were given.
    """

    standards: Standards
    lang: Lang
    crs: CRS
    study_area_m: BaseGeometry
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    demand_points: gpd.GeoDataFrame
    network: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    results: pd.DataFrame
    summary: dict
    state: AccessState
    warnings: list[str] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    streets: gpd.GeoDataFrame | None = None
