"""Benchmark: time of a scenario (`run_scenario`, what `circles compare` and a web app call)
with one added site and with one closed facility, on Chengdu and on Porto (printed, not
asserted).

Porto uses the SYNTHETIC inputs of bench_scale.py (500 m grid-cell communities, 200 sampled
facilities per category). A scenario judges every rule of the changed category twice (before
and after); a close runs the category's multi-source search again, an add searches from the
new site to the category's search limit.

    python benchmarks/bench_scenario.py [--no-porto]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from circles import analyze, load_standards, write_outputs
from circles.planning.saved import load_analysis
from circles.planning.scenario import Action, ScenarioBase, load_base, run_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import PORTO, work_inputs

CHENGDU = (
    Path(__file__).resolve().parents[2] / "shared" / "osm" / "chengdu_central_osmconvert_2018.osm"
)
CATEGORIES = ("supermarket", "primary_school", "kindergarten")


def timed(base: ScenarioBase, plans: list[list[Action]]) -> tuple[float, float]:
    """Median and largest seconds of ``run_scenario`` over the plans."""
    seconds = []
    for plan in plans:
        start = time.perf_counter()
        run_scenario(base, plan)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), float(np.max(seconds))


def rows(name: str, folder: Path, runs: int) -> None:
    """Load the analysis once, then time scenarios of one add and of one close: the first
    plan on a category also judges the category as it stands (kept for later plans)."""
    start = time.perf_counter()
    base = load_base(load_analysis(folder))
    load_s = time.perf_counter() - start
    rng = np.random.default_rng(7)
    inside = base.demand[base.demand.within(base.saved.study_area_m)]
    homes = inside.to_crs(4326).geometry
    for category in CATEGORIES:
        at = homes.iloc[rng.choice(len(homes), runs)]
        adds = [[Action("add", category, p.x, p.y)] for p in at]
        ids = base.facilities.loc[base.facilities["category_id"] == category, "facility_id"]
        closes = [[Action("close", facility_id=f)] for f in rng.choice(ids.to_numpy(), runs)]
        first, _ = timed(base, adds[:1])  # also judges the category as it stands (kept)
        add_med, add_max = timed(base, adds[1:])
        close_med, close_max = timed(base, closes)
        print(
            f"| {name} | {len(base.demand):,} | {len(base.communities):,} | {category} "
            f"({len(ids)}) | {load_s:.2f} | {first:.3f} | {add_med:.3f} ({add_max:.3f}) | "
            f"{close_med:.3f} ({close_max:.3f}) |"
        )


def main() -> None:
    print(
        "| extract | demand points | communities | category (facilities) | load s | "
        "first plan s | 1 add: median s (max) | 1 close: median s (max) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "chengdu"
        write_outputs(analyze(CHENGDU), folder)
        rows("Chengdu", folder, 11)
        if "--no-porto" in sys.argv or not PORTO.exists():
            return
        inputs = Path(tmp) / "porto-inputs"
        inputs.mkdir()
        work_inputs(PORTO, inputs, 500.0)
        facilities = gpd.read_file(inputs / "facilities.gpkg")
        porto = analyze(
            PORTO,
            standards=load_standards(),
            facilities=[facilities],
            communities=inputs / "communities.gpkg",
        )
        write_outputs(porto, Path(tmp) / "porto")
        del porto
        rows("Porto (synthetic communities)", Path(tmp) / "porto", 6)


if __name__ == "__main__":
    main()
