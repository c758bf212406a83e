"""Benchmark: stage times and peak memory of circles on real extracts (printed, not asserted).

Chinese district extracts run the full analysis. City-scale extracts (Porto, Milan, Malta,
Liechtenstein) carry almost no residential polygons or POIs, so there the network side is
timed with facilities and homes sampled on the network with a fixed seed (said in the output).

    python benchmarks/bench_scale.py [--skip-city]
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import numpy as np

from circles import analyze, load_standards
from circles.access import nearest_facility, routing_graph
from circles.analysis import feature_keys
from circles.network import network_from_extract
from circles.osm import read_extract

SHARED = Path(__file__).resolve().parents[2] / "shared"
DISTRICTS = ["chengdu_central_osmconvert_2018.osm", "shenzhen_nanshan_overpass_2021-03.osm"]
CITIES = ["liechtenstein-latest.osm.pbf", "malta-latest.osm.pbf", "milan_italy_small.osm.pbf",
          "porto_portugal.osm.pbf"]  # fmt: skip


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def district(path: Path, standards) -> None:
    start = time.perf_counter()
    result = analyze(path, standards=standards)
    wall = time.perf_counter() - start
    s = result.summary
    stages = ", ".join(f"{k} {v:.2f}" for k, v in s["timings_s"].items())
    print(
        f"| {path.name} | {s['network']['nodes']:,} | {s['network']['edges']:,} | "
        f"{s['communities']['demand_points']:,} | {wall:.2f} s | {stages} | {peak_mib():.0f} MiB |"
    )


def city(path: Path, standards, n_facilities: int = 200, n_homes: int = 50_000) -> None:
    rng = np.random.default_rng(42)
    t0 = time.perf_counter()
    extract = read_extract(path, feature_keys(standards))
    t1 = time.perf_counter()
    net = network_from_extract(extract, standards.network)
    t2 = time.perf_counter()
    main_nodes = np.flatnonzero(net.component == net.main_component)
    jitter = rng.normal(0, 20, (n_homes + n_facilities * len(standards.category_ids), 2))
    xy = net.node_xy[rng.choice(main_nodes, len(jitter))] + jitter
    homes, shops = net.snap(xy[:n_homes]), net.snap(xy[n_homes:])
    graph = routing_graph(net, homes, shops)
    t3 = time.perf_counter()
    for i, cat in enumerate(standards.category_ids):
        rows = np.arange(i * n_facilities, (i + 1) * n_facilities)
        nearest_facility(graph, rows, homes.connector_m, standards.search_limit_m(cat))
    t4 = time.perf_counter()
    print(
        f"| {path.name} | {net.n_nodes:,} | {net.n_edges:,} | {t1 - t0:.2f} | {t2 - t1:.2f} | "
        f"{t3 - t2:.2f} | {t4 - t3:.2f} | {t4 - t0:.2f} | {peak_mib():.0f} MiB |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    standards = load_standards()
    machine = platform.processor() or platform.machine()
    print(f"# circles benchmark, {time.strftime('%Y-%m-%d')}, {machine}, ", end="")
    print(f"Python {platform.python_version()}\n")
    print("## Full analysis of Chinese district extracts (all default categories)\n")
    print("| extract | nodes | edges | demand points | wall | stages (s) | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for name in DISTRICTS:
        district(SHARED / "osm" / name, standards)
    if args.skip_city:
        return
    print(
        "\n## City-scale network side (facilities: 200 per category, 16 categories; 50,000 homes;"
        " both sampled on the network with seed 42)\n"
    )
    print(
        "| extract | nodes | edges | read s | network s | snap+split s | 16 searches s | total s "
        "| peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in CITIES:
        city(SHARED / "osm-scale" / name, standards)


if __name__ == "__main__":
    main()
