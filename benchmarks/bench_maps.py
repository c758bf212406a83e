"""Benchmark: `circles map` of Porto with 1,000 and 10,000 facilities (printed, not asserted).

Targets (issue 15, part 7): under 60 s and under 2 GiB per map run; the HTML of a 300k-node
district under 25 MB. Porto has no residential polygons and almost no POIs, so its inputs are
SYNTHETIC, as in ``bench_scale.py``: communities are 500 m grid cells over the main network
piece holding 1,500,000 people in proportion to street length; facilities are sampled on the
network (seed 42), spread evenly over the categories. Each analysis is written once; each map
is then drawn in a fresh process (its peak RSS is that run's).

    python benchmarks/bench_maps.py [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import PORTO, peak_mib, work_inputs

COUNTS = (1_000, 10_000)
TILES = ("none", "osm", "amap")


def work_analysis(inputs: Path, n_facilities: int, out: Path) -> dict:
    """Analyse Porto with ``n_facilities`` sampled facilities and write the analysis folder."""
    import geopandas as gpd

    from circles import analyze, load_standards, write_outputs

    standards = load_standards()
    points = gpd.read_file(inputs / "facilities.gpkg")  # sampled on the network
    rng = np.random.default_rng(42)
    at = points.geometry.iloc[rng.choice(len(points), n_facilities)]
    jitter = rng.normal(0, 0.0003, (n_facilities, 2))  # about 30 m
    facilities = gpd.GeoDataFrame(
        {"category_id": np.resize(standards.category_ids, n_facilities)},
        geometry=gpd.points_from_xy(at.x + jitter[:, 0], at.y + jitter[:, 1]),
        crs=points.crs,
    )
    start = time.perf_counter()
    result = analyze(
        PORTO,
        standards=standards,
        facilities=[facilities],
        communities=inputs / "communities.gpkg",
    )
    write_outputs(result, out)
    net = result.summary["network"]
    return {"s": round(time.perf_counter() - start, 1), "nodes": net["nodes"]}


def work_map(folder: Path, tiles: str, out: Path) -> dict:
    """Draw every category's map of an analysis folder; time, peak memory, HTML size."""
    from circles.planning.saved import load_analysis
    from circles.present.maps import write_district_maps

    start = time.perf_counter()
    saved = load_analysis(folder)
    paths, counts = write_district_maps(saved, out, tiles=tiles)
    return {
        "s": round(time.perf_counter() - start, 1),
        "peak_mib": round(peak_mib()),
        "mb": round(paths[0].stat().st_size / 1e6, 1),
        "counts": counts[paths[0].name],
    }


def worker(kind: str, *args: object) -> dict:
    """Run one measurement in a fresh process; its result is the last line it prints."""
    cmd = [sys.executable, __file__, "--worker", kind, *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(tmp: Path) -> None:
    inputs = tmp / "inputs"
    inputs.mkdir(exist_ok=True)
    if not (inputs / "facilities.gpkg").exists():
        worker("inputs", inputs)
    print("| facilities | nodes | analysis s | tiles | map s | peak RSS | HTML MB |")
    print("|---|---|---|---|---|---|---|")
    for n in COUNTS:
        folder = tmp / f"porto-{n}"
        if (folder / "summary.json").exists():  # kept from an earlier run
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            made = {"s": "(kept)", "nodes": summary["network"]["nodes"]}
        else:
            made = worker("analysis", inputs, n, folder)
        if "error" in made:
            print(f"| {n:,} | analysis failed: {made['error']} |")
            continue
        for tiles in TILES:
            r = worker("map", folder, tiles, tmp / f"maps-{n}-{tiles}")
            if "error" in r:
                print(f"| {n:,} | {made['nodes']:,} | {made['s']} | {tiles} | {r['error']} |")
                continue
            print(
                f"| {n:,} | {made['nodes']:,} | {made['s']} | {tiles} | {r['s']} | "
                f"{r['peak_mib']} MiB | {r['mb']} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="Keep inputs and analyses in this folder.")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        work = {
            "inputs": lambda: work_inputs(PORTO, Path(rest[0]), 500.0),
            "analysis": lambda: work_analysis(Path(rest[0]), int(rest[1]), Path(rest[2])),
            "map": lambda: work_map(Path(rest[0]), rest[1], Path(rest[2])),
        }[kind]
        print(json.dumps(work()))
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep)
        return
    with tempfile.TemporaryDirectory(prefix="circles-bench-maps-") as tmp:
        run(Path(tmp))


if __name__ == "__main__":
    main()
