"""The parsed extract in the disk cache: stored after a first read, loaded instead of reading
the file again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.sources import cache
from circles.sources.extract import WGS84, OsmExtract, Ways

CODE = (
    __file__,
    str(Path(__file__).with_name("osm.py")),
    str(Path(__file__).with_name("extract.py")),
)


def extract_key(
    name: str, sha256: str, area: shapely.Geometry | None, feature_keys: Iterable[str]
) -> str:
    """Key of a parsed extract: file name and content, study area, feature tag keys."""
    area_wkb = None if area is None else shapely.to_wkb(area, hex=True)
    return cache.make_key(
        CODE, kind="extract", name=name, sha256=sha256, area=area_wkb, keys=sorted(feature_keys)
    )


def load_extract(key: str, path: Path, reread: Callable[[], Ways]) -> OsmExtract | None:
    """The cached extract of ``key`` (read from ``path``), or None.

    Its highway ways are a separate entry, loaded when first used (a cached network needs
    none); ``reread()`` reads them from the file again (and caches them) if that entry is
    gone by then.
    """

    def build(arrays: dict[str, np.ndarray], meta: dict) -> OsmExtract:
        return OsmExtract(
            path=path,
            sha256=meta["sha256"],
            bounds=shapely.from_wkb(arrays["bounds"].tobytes()),
            read_area=shapely.from_wkb(arrays["area"].tobytes()),
            features=_features(arrays, meta, WGS84),
            data_date=meta["data_date"],
            _ways=lambda: cache.load("ways", key, build_ways) or store_ways(key, reread()),
            warnings=meta["warnings"],
            cache="hit",
            cache_key=key,
        )

    def build_ways(arrays: dict[str, np.ndarray], meta: dict) -> Ways:
        table = meta["tag_table"]  # ways share their tag dicts (read-only)
        return Ways(
            way_ids=arrays["way_ids"],
            tags=[table[c] for c in arrays["way_tag"].tolist()],
            segments=arrays["segments"],
            segment_way=arrays["segment_way"],
            node_ids=arrays["node_ids"],
            node_lonlat=arrays["node_lonlat"],
        )

    return cache.load("extract", key, build)


def store_extract(key: str, extract: OsmExtract) -> None:
    """Cache a parsed extract under ``key``: its ways, then the rest."""
    store_ways(key, extract.ways)
    features = extract.features
    arrays = {
        "bounds": cache.as_bytes(shapely.to_wkb(extract.bounds)),
        "area": cache.as_bytes(shapely.to_wkb(extract.read_area)),
        "feature_osm_id": features["osm_id"].to_numpy(np.int64),
        **cache.geometry_arrays(features.geometry.to_numpy()),
    }
    meta = {
        "sha256": extract.sha256,
        "data_date": extract.data_date,
        "warnings": extract.warnings,
        "feature_osm_type": features["osm_type"].tolist(),
        "feature_tags": features["tags"].tolist(),
        "feature_dtypes": {c: str(t) for c, t in features.dtypes.items() if c != "geometry"},
    }
    cache.store("extract", key, arrays, meta)


def store_ways(key: str, ways: Ways) -> Ways:
    """Cache an extract's highway ways under ``key`` (their tags stored once per distinct set)."""
    table, codes = cache.shared_dicts(ways.tags)  # most ways have the tags of many others
    arrays = {
        "way_ids": ways.way_ids,
        "way_tag": codes,
        "segments": ways.segments,
        "segment_way": ways.segment_way,
        "node_ids": ways.node_ids,
        "node_lonlat": ways.node_lonlat,
    }
    cache.store("ways", key, arrays, {"tag_table": table})
    return ways


def _features(arrays: dict[str, np.ndarray], meta: dict, crs: str) -> gpd.GeoDataFrame:
    """The features table, rebuilt as ``osm.read_extract`` builds it."""
    geoms = cache.geometries(arrays)
    tags = meta["feature_tags"]
    columns = {
        "osm_type": meta["feature_osm_type"],
        "osm_id": arrays["feature_osm_id"],
        "name": [t.get("name") for t in tags],
        "tags": pd.Series(tags, dtype=object),
    }
    features = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs=crs))
    for column, dtype in meta["feature_dtypes"].items():
        if str(features[column].dtype) != dtype:
            features[column] = features[column].astype(dtype)
    return features
