"""Benchmark: stage times and peak memory of circles on real extracts (printed, not asserted).

Every measurement runs in a fresh Python process (this script, called with ``--worker``), so
the peak resident memory (``ru_maxrss``, a process-lifetime peak) belongs to that one run;
"peak after stage" is the process's peak up to the end of that stage. Prints:

1. Full analysis of Chinese district extracts (cache off).
2. City-scale network side at four sizes: read OSM, build the network, snap homes and
   facilities, 16 nearest-facility searches. These extracts carry almost no residential
   polygons or POIs, so homes and facilities are sampled on the network (seed 42).
3. Loading (read OSM + network) without the cache, filling it, and from it, each run in a
   new process (medians of several runs).
4. A full ``circles analyze`` of Porto with SYNTHETIC communities (500 m, then 250 m grid
   cells over the main network piece, population proportional to the street length in each
   cell) and SYNTHETIC facilities (sampled on the network, seed 42): Porto has no
   residential polygons and almost no POIs.

    python benchmarks/bench_scale.py [--skip-district] [--skip-city] [--skip-cache] [--skip-analyze]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared"
DISTRICTS = ["chengdu_central_osmconvert_2018.osm", "shenzhen_nanshan_overpass_2021-03.osm"]
CITIES = ["liechtenstein-latest.osm.pbf", "malta-latest.osm.pbf", "milan_italy_small.osm.pbf",
          "porto_portugal.osm.pbf"]  # fmt: skip
PORTO = SHARED / "osm-scale" / "porto_portugal.osm.pbf"
N_HOMES, N_FACILITIES = 50_000, 200  # network side: homes, facilities per category
POPULATION = 1_500_000  # synthetic Porto communities, in all
CELLS_M = (500.0, 250.0)  # synthetic Porto communities: grid cell sizes
LOAD_RUNS = {"off": 3, "fill": 1, "hit": 5}  # load-stage runs per extract, each a new process


def peak_mib() -> float:
    """Peak resident memory of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stages:
    """Time and peak memory at the end of each stage."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}
        self.clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.rows[stage] = {"s": round(now - self.clock, 3), "peak_mib": round(peak_mib())}
        self.clock = now


# ---------------------------------------------------------------- workers (fresh processes)


def work_district(path: Path) -> dict:
    from circles import analyze, load_standards

    standards = load_standards()
    start_mib = peak_mib()
    start = time.perf_counter()
    result = analyze(path, standards=standards, cache=False)
    s = result.summary
    return {
        "wall_s": round(time.perf_counter() - start, 3),
        "nodes": s["network"]["nodes"],
        "edges": s["network"]["edges"],
        "demand_points": s["communities"]["demand_points"],
        "timings_s": s["timings_s"],
        "start_mib": round(start_mib),
        "peak_mib": round(peak_mib()),
    }


def work_network(path: Path) -> dict:
    from circles import load_standards
    from circles.access.attach import network_streets
    from circles.access.graph import routing_graph
    from circles.access.search import nearest_facility
    from circles.model.network import network_from_extract
    from circles.pipeline import feature_keys
    from circles.sources.osm import read_extract

    standards = load_standards()
    rng = np.random.default_rng(42)
    start_mib = peak_mib()
    stages = Stages()
    extract = read_extract(path, feature_keys(standards))
    stages.lap("read_osm")
    net = network_from_extract(extract, standards.network)
    stages.lap("network")
    main_nodes = np.flatnonzero(net.component == net.main_component)
    n_cat = len(standards.category_ids)
    jitter = rng.normal(0, 20, (N_HOMES + N_FACILITIES * n_cat, 2))
    xy = net.node_xy[rng.choice(main_nodes, len(jitter))] + jitter
    streets = network_streets(net)
    homes, shops = streets.attach(xy[:N_HOMES]), streets.attach(xy[N_HOMES:])
    graph = routing_graph(net, homes, shops)
    stages.lap("snap+graph")
    for i, cat in enumerate(standards.category_ids):
        rows = np.arange(i * N_FACILITIES, (i + 1) * N_FACILITIES)
        nearest_facility(graph, rows, standards.search_limit_m(cat))
    stages.lap("searches")
    return {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "categories": n_cat,
        "start_mib": round(start_mib),
        "stages": stages.rows,
    }


def work_load(path: Path, run: str) -> dict:
    """Read OSM + build the network once: ``off`` (cache off), ``fill`` or ``hit``."""
    from circles import load_standards
    from circles.model.network import network_from_extract
    from circles.pipeline import feature_keys
    from circles.sources.osm import read_extract

    standards = load_standards()
    keys = feature_keys(standards)
    start = time.perf_counter()
    extract = read_extract(path, keys, cache=run != "off")
    net = network_from_extract(extract, standards.network, cache=run != "off")
    return {
        "s": time.perf_counter() - start,
        "status": f"{extract.cache}/{net.cache}",
        "edges": net.n_edges,
    }


def work_inputs(path: Path, out_dir: Path, cell_m: float) -> dict:
    """Write synthetic communities and facilities for ``path`` as GeoPackages."""
    import geopandas as gpd
    import shapely

    from circles import load_standards
    from circles.model.network import network_from_extract
    from circles.pipeline import feature_keys
    from circles.sources.osm import WGS84, read_extract

    standards = load_standards()
    net = network_from_extract(read_extract(path, feature_keys(standards)), standards.network)
    main = net.main_edges
    mid = (net.node_xy[net.edge_u[main]] + net.node_xy[net.edge_v[main]]) / 2
    low = mid.min(axis=0)
    cell = np.floor((mid - low) / cell_m).astype(np.int64)
    ncol = int(cell[:, 0].max()) + 1
    length = np.bincount(cell[:, 1] * ncol + cell[:, 0], net.length_m[main])
    used = np.flatnonzero(length >= 0.004 * cell_m**2)  # at least 4 km of street per km²
    row, col = np.divmod(used, ncol)
    x0, y0 = low[0] + col * cell_m, low[1] + row * cell_m
    cells = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    population = np.round(POPULATION * length[used] / length[used].sum())
    communities = gpd.GeoDataFrame(
        {
            "name": [f"cell {r}-{c}" for r, c in zip(row, col, strict=True)],
            "population": population,
        },
        geometry=cells,
        crs=net.crs,
    ).to_crs(WGS84)
    communities.to_file(out_dir / "communities.gpkg")

    rng = np.random.default_rng(42)
    main_nodes = np.flatnonzero(net.component == net.main_component)
    cats = np.repeat(standards.category_ids, N_FACILITIES)
    xy = net.node_xy[rng.choice(main_nodes, len(cats))] + rng.normal(0, 20, (len(cats), 2))
    facilities = gpd.GeoDataFrame(
        {"category_id": cats}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=net.crs
    ).to_crs(WGS84)
    facilities.to_file(out_dir / "facilities.gpkg")
    return {"communities": len(communities), "facilities": len(facilities)}


def work_analyze(path: Path, inputs: Path) -> dict:
    import inspect

    import geopandas as gpd

    from circles import analyze, load_standards

    if "communities" not in inspect.signature(analyze).parameters:
        return {"skipped": "needs --communities"}
    standards = load_standards()
    facilities = gpd.read_file(inputs / "facilities.gpkg")
    start_mib = peak_mib()
    start = time.perf_counter()
    result = analyze(
        path,
        standards=standards,
        facilities=[facilities],
        communities=inputs / "communities.gpkg",
        cache=False,
    )
    s = result.summary
    return {
        "wall_s": round(time.perf_counter() - start, 3),
        "nodes": s["network"]["nodes"],
        "edges": s["network"]["edges"],
        "communities": s["communities"]["count"],
        "demand_points": s["communities"]["demand_points"],
        "facilities": len(result.facilities),
        "timings_s": s["timings_s"],
        "start_mib": round(start_mib),
        "peak_mib": round(peak_mib()),
    }


# ---------------------------------------------------------------- parent: run and print


def worker(kind: str, *args: str | Path, cache_dir: Path) -> dict:
    """Run one measurement in a fresh process; its result is the last line it prints."""
    env = os.environ | {"CIRCLES_CACHE_DIR": str(cache_dir)}
    cmd = [sys.executable, __file__, "--worker", kind, *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def districts(tmp: Path) -> None:
    print("## Full analysis of Chinese district extracts (all default categories, cache off)\n")
    print("| extract | nodes | edges | demand points | wall s | stages (s) | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for name in DISTRICTS:
        r = worker("district", SHARED / "osm" / name, cache_dir=tmp / "cache")
        if "error" in r:
            print(f"| {name} | failed: {r['error']} |")
            continue
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r["timings_s"].items())
        print(
            f"| {name} | {r['nodes']:,} | {r['edges']:,} | {r['demand_points']:,} | "
            f"{r['wall_s']:.2f} | {stages} | {r['peak_mib']} MiB |"
        )


def cities(tmp: Path) -> None:
    print(
        f"\n## Scaling of the network side (cache off; {N_HOMES:,} homes and {N_FACILITIES} "
        "facilities per category sampled on the network, seed 42)\n"
    )
    print(
        "Seconds per stage, and in brackets the process's peak RSS (MiB) at the end of it; "
        "a fresh process per extract (its memory at start is given).\n"
    )
    print(
        "| extract | nodes | edges | read_osm | network | snap+graph | searches | total s "
        "| µs per node | at start |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in CITIES:
        r = worker("network", SHARED / "osm-scale" / name, cache_dir=tmp / "cache")
        if "error" in r:
            print(f"| {name} | failed: {r['error']} |")
            continue
        st = r["stages"]
        total = sum(v["s"] for v in st.values())
        cells = " | ".join(f"{v['s']:.2f} ({v['peak_mib']})" for v in st.values())
        print(
            f"| {name} | {r['nodes']:,} | {r['edges']:,} | {cells} | {total:.2f} | "
            f"{total / r['nodes'] * 1e6:.1f} | {r['start_mib']} MiB |"
        )


def cache_table(tmp: Path) -> None:
    print("\n## Load stage (read OSM + network): cache off, filling the cache, from the cache\n")
    print(
        f"Every run in a new process, as a new `circles analyze` would be: cache off "
        f"{LOAD_RUNS['off']} times, filling once, from the cache {LOAD_RUNS['hit']} times; "
        "medians, with the range in brackets.\n"
    )
    print("| extract | edges | cache off s | filling s | hit s | off / hit |")
    print("|---|---|---|---|---|---|")
    for name in ["chengdu_central_osmconvert_2018.osm", *CITIES]:
        path = SHARED / ("osm" if name in DISTRICTS else "osm-scale") / name
        cache_dir = tmp / f"cache-{name}"
        runs = {
            run: [worker("load", path, run, cache_dir=cache_dir) for _ in range(n)]
            for run, n in LOAD_RUNS.items()
        }
        failed = [r["error"] for rs in runs.values() for r in rs if "error" in r]
        if failed:
            print(f"| {name} | failed: {failed[0]} |")
            continue
        edges = runs["off"][0]["edges"]
        wrong = [r for r in runs["hit"] if r["status"] != "hit/hit" or r["edges"] != edges]
        if wrong or runs["fill"][0]["status"] != "miss/miss":
            print(f"| {name} | cache not filled or not hit: {wrong or runs['fill']} |")
            continue
        s = {run: sorted(r["s"] for r in rs) for run, rs in runs.items()}
        off, hit = statistics.median(s["off"]), statistics.median(s["hit"])
        print(
            f"| {name} | {edges:,} | {off:.2f} ({s['off'][0]:.2f}–{s['off'][-1]:.2f}) | "
            f"{s['fill'][0]:.2f} | {hit:.3f} ({s['hit'][0]:.3f}–{s['hit'][-1]:.3f}) | "
            f"{off / hit:.0f}× |"
        )


def porto_analyze(tmp: Path) -> None:
    print("\n## Full `circles analyze` of Porto (cache off)\n")
    print(
        f"SYNTHETIC inputs: communities are grid cells over the main network piece holding "
        f"{POPULATION:,} people in proportion to street length, at two cell sizes (so four "
        f"times the communities); {N_FACILITIES} facilities per category sampled on the "
        "network (seed 42). Porto has no residential polygons and almost no POIs.\n"
    )
    print("| cells | nodes | edges | communities | demand points | facilities | wall s "
          "| stages (s) | peak RSS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for cell_m in CELLS_M:
        inputs = tmp / f"porto-inputs-{cell_m:.0f}"
        inputs.mkdir(exist_ok=True)
        made = worker("inputs", PORTO, inputs, cell_m, cache_dir=tmp / "cache")
        if "error" in made:
            print(f"| {cell_m:.0f} m | failed to make the synthetic inputs: {made['error']} |")
            continue
        r = worker("analyze", PORTO, inputs, cache_dir=tmp / "cache")
        if "skipped" in r or "error" in r:
            print(f"| {cell_m:.0f} m | {r.get('skipped') or 'failed: ' + r['error']} |")
            continue
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r["timings_s"].items())
        print(
            f"| {cell_m:.0f} m | {r['nodes']:,} | {r['edges']:,} | {r['communities']:,} | "
            f"{r['demand_points']:,} | {r['facilities']:,} | {r['wall_s']:.2f} | {stages} | "
            f"{r['peak_mib']} MiB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-district", action="store_true")
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--skip-cache", action="store_true")
    parser.add_argument("--skip-analyze", action="store_true")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, path, *rest = args.worker
        work = {
            "district": lambda: work_district(Path(path)),
            "network": lambda: work_network(Path(path)),
            "load": lambda: work_load(Path(path), rest[0]),
            "inputs": lambda: work_inputs(Path(path), Path(rest[0]), float(rest[1])),
            "analyze": lambda: work_analyze(Path(path), Path(rest[0])),
        }[kind]
        print(json.dumps(work()))
        return
    machine = platform.processor() or platform.machine()
    print(
        f"# circles benchmark, {time.strftime('%Y-%m-%d')}, {machine}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    with tempfile.TemporaryDirectory(prefix="circles-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_district:
            districts(tmp)
        if not args.skip_city:
            cities(tmp)
        if not args.skip_cache:
            cache_table(tmp)
        if not args.skip_analyze:
            porto_analyze(tmp)


if __name__ == "__main__":
    main()
