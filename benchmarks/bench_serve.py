"""Benchmark: `circles serve` server times (printed, not asserted): start-up (the analysis and
its scenario base loaded), click-to-score (`GET /api/score`, 50 random clicks inside the study
area, through Starlette's TestClient, so the HTTP handling counts), closing one facility
(`POST /api/scenario`), on Chengdu and on Porto (320k walk nodes, SYNTHETIC communities and
facilities as in bench_scale.py). The first click on a category also judges the category as it
stands (kept); it is reported apart.

    python benchmarks/bench_serve.py [--chengdu DIR] [--porto DIR]

Without DIR, the analysis is built first (Porto: about a minute).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from circles import analyze, load_standards, write_outputs
from circles.planning.saved import load_analysis
from circles.serve.app import create_app
from circles.serve.workbench import open_workbench

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import PORTO, work_inputs

CHENGDU = (
    Path(__file__).resolve().parents[2] / "shared" / "osm" / "chengdu_central_osmconvert_2018.osm"
)
CATEGORIES = ("supermarket", "kindergarten")
CLICKS = 50


def clicks(saved, n: int, seed: int = 7) -> list[tuple[float, float]]:
    """``n`` random WGS-84 points inside the study area."""
    to_wgs = Transformer.from_crs(saved.crs, 4326, always_xy=True)
    area, rng, out = saved.study_area_m, np.random.default_rng(seed), []
    minx, miny, maxx, maxy = area.bounds
    while len(out) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if area.contains(shapely.Point(x, y)):
            out.append(to_wgs.transform(x, y))
    return out


def rows(name: str, folder: Path) -> None:
    start = time.perf_counter()
    bench = open_workbench(load_analysis(folder), None, "zh")
    load_s = time.perf_counter() - start
    client = TestClient(create_app(bench), base_url="http://127.0.0.1")
    points = clicks(bench.saved, CLICKS + 1)
    for category in CATEGORIES:
        times = []
        for lon, lat in points:
            t = time.perf_counter()
            response = client.get(f"/api/score?category={category}&lon={lon}&lat={lat}")
            times.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text
        first, rest = times[0], np.array(times[1:]) * 1000
        fac = bench.base.facilities
        ids = fac.loc[fac["category_id"] == category, "facility_id"].to_numpy()
        closes = []
        for fid in np.random.default_rng(3).choice(ids, 5, replace=False):
            t = time.perf_counter()
            response = client.post("/api/scenario", json=[{"action": "close", "facility_id": fid}])
            closes.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text
        print(
            f"| {name} | {bench.saved.state.graph.n_nodes:,} | {len(bench.base.demand):,} | "
            f"{category} ({len(ids)}) | {load_s:.2f} | {first * 1000:.0f} | "
            f"{np.median(rest):.1f} | {np.percentile(rest, 95):.1f} | "
            f"{np.median(closes):.2f} ({np.max(closes):.2f}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chengdu", type=Path)
    parser.add_argument("--porto", type=Path)
    args = parser.parse_args()
    print(
        "| extract | routing nodes | demand points | category (facilities) | start-up s | "
        "first click ms | click ms median | click ms p95 | close s median (max) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        chengdu = args.chengdu
        if chengdu is None:
            chengdu = Path(tmp) / "chengdu"
            write_outputs(analyze(CHENGDU), chengdu)
        rows("Chengdu", chengdu)
        porto = args.porto
        if porto is None and PORTO.exists():
            inputs = Path(tmp) / "porto-inputs"
            inputs.mkdir()
            work_inputs(PORTO, inputs, 500.0)
            result = analyze(
                PORTO,
                standards=load_standards(),
                facilities=[gpd.read_file(inputs / "facilities.gpkg")],
                communities=inputs / "communities.gpkg",
            )
            porto = Path(tmp) / "porto"
            write_outputs(result, porto)
            del result
        if porto is not None:
            rows("Porto (synthetic communities)", porto)


if __name__ == "__main__":
    main()
