"""Benchmark: time per scored site and for `recommend` on Chengdu (printed, not asserted).

Targets (issue 4): under 50 ms per scored site after the analysis is loaded; under 30 s for
recommend with K=10 and auto candidates.

    python benchmarks/bench_siting.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from circles import analyze, write_outputs
from circles.planning.recommend import recommend
from circles.planning.saved import load_analysis
from circles.planning.score import score_site

CHENGDU = (
    Path(__file__).resolve().parents[2] / "shared" / "osm" / "chengdu_central_osmconvert_2018.osm"
)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_outputs(analyze(CHENGDU), folder)
        start = time.perf_counter()
        saved = load_analysis(folder)
        print(f"load saved analysis: {time.perf_counter() - start:.3f} s")
        rng = np.random.default_rng(7)
        minx, miny, maxx, maxy = 104.045, 30.655, 104.125, 30.725
        sites = np.column_stack([rng.uniform(minx, maxx, 200), rng.uniform(miny, maxy, 200)])
        print("| category | sites | ms per scored site (mean) | ms (p95) |")
        print("|---|---|---|---|")
        for category in ("kindergarten", "elderly_meal", "supermarket"):
            times = []
            for lon, lat in sites:
                t0 = time.perf_counter()
                score_site(saved, category, lon, lat)
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"| {category} | {len(sites)} | {np.mean(times):.1f} | "
                f"{np.percentile(times, 95):.1f} |"
            )
        print("\n| category | K | candidates | method | seconds | greedy / exact |")
        print("|---|---|---|---|---|---|")
        for category in ("kindergarten", "elderly_meal", "supermarket"):
            rec = recommend(saved, category, 10)
            ratio = (rec.greedy_vs_exact or {}).get("greedy_share_of_optimum", "n/a")
            print(
                f"| {category} | 10 | {rec.candidates} | {rec.method} | {rec.seconds:.1f} | "
                f"{ratio} |"
            )


if __name__ == "__main__":
    main()
