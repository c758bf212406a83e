"""Save and load the arrays that siting reuses (routing graph, distances, demand) as one .npz."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_array

from circles.errors import InputError
from circles.standards import Standards

if TYPE_CHECKING:
    from circles.analysis import Analysis

STATE_FILE = "access.npz"
STANDARDS_FILE = "standards.json"


def state_arrays(analysis: Analysis) -> dict[str, np.ndarray]:
    """The arrays of an analysis that scoring and recommending need."""
    graph = analysis.graph
    if graph is None:
        msg = "this Analysis holds no routing graph (was it built by circles.analyze?)"
        raise ValueError(msg)
    demand, fac = analysis.demand_points, analysis.facilities
    communities = analysis.communities
    codes = communities.reset_index().set_index("community_id")["index"]
    street = graph.edge_source >= 0  # the rest are facility connectors
    source = np.maximum(graph.edge_source, 0)
    edges = analysis.network  # the network's edges, in its order
    arrays = {
        "crs_wkt": np.array(analysis.crs.to_wkt()),
        "area_wkb": np.frombuffer(shapely.to_wkb(analysis.area_m), dtype=np.uint8),
        "indptr": graph.matrix.indptr,
        "indices": graph.matrix.indices,
        "data": graph.matrix.data,
        "node_xy": graph.node_xy,
        "n_network": np.array(graph.n_network),
        "edge_u": graph.edge_u,
        "edge_v": graph.edge_v,
        "edge_w": graph.edge_w,
        "directed": graph.directed,
        "edge_highway": np.where(street, edges["highway"].to_numpy(str)[source], ""),
        "edge_in_main": street & edges["in_main"].to_numpy(bool)[source],
        "point_node": graph.point_node,
        "point_connector_m": demand["connector_m"].to_numpy(float),
        "point_population": demand["population"].to_numpy(float),
        "point_community": codes.loc[demand["community_id"]].to_numpy(),
        "community_id": communities["community_id"].to_numpy(str),
        "community_name": communities["name"].fillna("").to_numpy(str),
        "community_population": communities["population"].to_numpy(float),
        "facility_node": graph.facility_node,
        "facility_category": fac["category_id"].to_numpy(str),
        "facility_id": fac["facility_id"].to_numpy(str),
    }
    for cat_id, acc in analysis.access.items():
        arrays[f"node_dist.{cat_id}"] = acc.node_dist_m
        arrays[f"point_dist.{cat_id}"] = acc.point_dist_m
        arrays[f"limit.{cat_id}"] = np.array(acc.limit_m)
    return arrays


def save_state(analysis: Analysis, write: Callable[[str, Callable[[Path], None]], None]) -> None:
    """Write the state arrays and the standards used, through ``write(name, writer)``."""
    arrays = state_arrays(analysis)
    standards_json = analysis.standards.model_dump_json(indent=1)
    write(STATE_FILE, lambda tmp: np.savez(tmp, **arrays))
    write(STANDARDS_FILE, lambda tmp: tmp.write_text(standards_json, encoding="utf-8"))


@dataclass
class SavedAnalysis:
    """A saved analysis, loaded for scoring and recommending sites."""

    folder: Path
    standards: Standards
    crs: CRS
    area_m: shapely.Geometry
    matrix: csr_array
    arrays: dict[str, np.ndarray]

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["arrays"][name]
        except KeyError:
            raise AttributeError(name) from None

    def node_dist(self, category_id: str) -> np.ndarray:
        return self.arrays[f"node_dist.{category_id}"]

    def point_dist(self, category_id: str) -> np.ndarray:
        return self.arrays[f"point_dist.{category_id}"]

    def limit(self, category_id: str) -> float:
        return float(self.arrays[f"limit.{category_id}"])

    @cached_property
    def summary(self) -> dict:
        """The analysis's ``summary.json`` (district, input, data date)."""
        return json.loads((self.folder / "summary.json").read_text(encoding="utf-8"))

    @cached_property
    def street(self) -> np.ndarray:
        """Indices of undirected street pieces of the main network piece (where sites join)."""
        return np.flatnonzero(~self.directed & self.edge_in_main)

    @cached_property
    def street_tree(self) -> shapely.STRtree:
        idx = self.street
        xy = self.node_xy
        return shapely.STRtree(
            shapely.linestrings(np.stack([xy[self.edge_u[idx]], xy[self.edge_v[idx]]], axis=1))
        )

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A layer of ``analysis.gpkg`` (communities, facilities, ...), WGS-84."""
        return gpd.read_file(self.folder / "analysis.gpkg", layer=name)


def load_state(folder: str | Path) -> SavedAnalysis:
    """Load a saved analysis folder written by ``circles analyze``.

    Raises
    ------
    InputError
        When the folder or its files are missing or unreadable.
    """
    folder = Path(folder)
    path = folder / STATE_FILE
    if not path.is_file() or not (folder / STANDARDS_FILE).is_file():
        msg = (
            f"{folder}: not an analysis folder ({STATE_FILE} or {STANDARDS_FILE} missing). "
            "Run `circles analyze --out FOLDER` first and pass that folder to --analysis."
        )
        raise InputError(msg)
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        standards = Standards.model_validate_json(
            (folder / STANDARDS_FILE).read_text(encoding="utf-8")
        )
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read the saved analysis ({exc}). Run `circles analyze` again."
        raise InputError(msg) from None
    n = len(arrays["node_xy"])
    matrix = csr_array((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n))
    return SavedAnalysis(
        folder=folder,
        standards=standards,
        crs=CRS.from_wkt(str(arrays["crs_wkt"])),
        area_m=shapely.from_wkb(arrays["area_wkb"].tobytes()),
        matrix=matrix,
        arrays=arrays,
    )
