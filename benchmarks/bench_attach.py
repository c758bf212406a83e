"""Benchmark: how often a resident who fails an access rule has the facility close as the crow
flies, before and after homes and facilities join every nearby street and walk across their
block (printed, not asserted).

For every access rule: among residents beyond the rule's walking threshold (weighted as the
rule counts them), the share with a facility of the category within threshold / 1.4 as the
crow flies — a walk 1.4 times the straight line is a generous detour, so such failures are
mostly artefacts of how points join the streets. Target (issue, part 4): below 1 %.

"before": nearest street only, areas from an interior point, walkability tags of circles 0.1;
"no across": the settings of configs/national.yaml without walks across a block
(attach_across_m 0); "after": those settings (areas at their mapped entrances, else from their
outline; compound roads inside residential land; homes and facilities linked across their
block). Also times the attachment of the homes and their links across blocks.

    python benchmarks/bench_attach.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import shapely

from circles import pipeline
from circles.access.attach import network_streets
from circles.model.network import network_from_extract
from circles.rules.measures import rule_weights
from circles.standards import Standards, load_standards

OSM = Path(__file__).resolve().parents[2] / "shared" / "osm"
EXTRACTS = {
    "Chengdu": OSM / "chengdu_central_osmconvert_2018.osm",
    "Shenzhen": OSM / "shenzhen_nanshan_overpass_2021-03.osm",
    "Beijing PKU": OSM / "beijing_haidian_pku_2017_export.osm",
    "Beijing CAU east": OSM / "beijing_haidian_cau_east_export.osm",
}
DETOUR = 1.4


def before_standards(standards: Standards) -> Standards:
    """The standards with circles 0.1's joins (nearest street only) and walkability tags."""
    network = standards.network.model_copy(
        update={
            "highway_include": [h for h in standards.network.highway_include if h != "cycleway"],
            "foot_deny_values": ["no"],
            "private_walkable_highways": [],
        }
    )
    analysis = standards.analysis.model_copy(
        update={
            "attach_extra_m": 0.0,
            "attach_max_streets": 1,
            "attach_area_max_streets": 1,
            "attach_across_m": 0.0,
        }
    )
    return standards.model_copy(update={"network": network, "analysis": analysis})


def no_across(standards: Standards) -> Standards:
    """The standards without walks across a block."""
    analysis = standards.analysis.model_copy(update={"attach_across_m": 0.0})
    return standards.model_copy(update={"analysis": analysis})


def run(osm: Path, standards: Standards, outlines: bool) -> dict[str, float]:
    """Share of failing residents with the facility within threshold / 1.4, per access rule."""
    given = pipeline.read_planner_inputs(None, None, None, (), None, None, "wgs84")
    buffer_m = pipeline.default_buffer_m(standards)
    extract = pipeline.read_osm(osm, standards, None, buffer_m, True)
    network = network_from_extract(extract, standards.network, True)
    area_m = pipeline.study_area_in(network, extract, None, buffer_m).metric
    found = pipeline.find_facilities(extract, network, standards, given)
    kept = found.outlines
    if not outlines:
        found.outlines, found.entrances = None, None
    people = pipeline.place_residents(extract, network, area_m, standards, given)
    access = pipeline.search_access(network, found, people, area_m, standards)
    homes = people.demand.geometry.values
    fac = access.facilities_m
    shapes, _ = pipeline._facility_shapes(fac, kept, network.crs)  # crow flies to the outline
    out = {}
    for rule in standards.access_rules():
        rows = np.flatnonzero(fac["category_id"].to_numpy() == rule.category)
        if len(rows) == 0:
            continue
        threshold = standards.threshold_m(rule)
        weights = rule_weights(rule, access.state.demand)[0]
        failing = access.state.point_dist(rule.category) > threshold
        crow = shapely.STRtree(shapes[rows]).query_nearest(homes, return_distance=True)[1]
        near = crow <= threshold / DETOUR
        total = weights[failing].sum()
        out[rule.id] = float(weights[failing & near].sum() / total) if total else 0.0
    return out


def time_homes(osm: Path, standards: Standards) -> float:
    """Seconds to join every home of an extract to its streets (after the tree is built)."""
    given = pipeline.read_planner_inputs(None, None, None, (), None, None, "wgs84")
    buffer_m = pipeline.default_buffer_m(standards)
    extract = pipeline.read_osm(osm, standards, None, buffer_m, True)
    network = network_from_extract(extract, standards.network, True)
    area_m = pipeline.study_area_in(network, extract, None, buffer_m).metric
    people = pipeline.place_residents(extract, network, area_m, standards, given)
    streets, s = network_streets(network), standards.analysis
    _ = streets.tree
    start = time.perf_counter()
    homes = people.demand.geometry.values
    join = streets.attach_near(homes, s.attach_extra_m, s.attach_max_streets)
    took = time.perf_counter() - start
    print(f"  {len(people.demand)} homes -> {len(join.piece)} joins in {took:.3f} s")
    found = pipeline.find_facilities(extract, network, standards, given)
    shapes, _ = pipeline._facility_shapes(
        found.table.to_crs(network.crs), found.outlines, network.crs
    )
    start = time.perf_counter()
    links = streets.across(homes, shapes, s.attach_across_m)[0]
    took_across = time.perf_counter() - start
    pairs = f"{len(homes)} homes x {len(shapes)} facilities"
    print(f"  {pairs} -> {len(links)} links across blocks in {took_across:.3f} s")
    return took


def main() -> None:
    after = load_standards(None)
    before = before_standards(after)
    print("| extract | access rule | before | no across | after |")
    print("|---|---|---|---|---|")
    for name, osm in EXTRACTS.items():
        if not osm.exists():
            continue
        old = run(osm, before, outlines=False)
        mid = run(osm, no_across(after), outlines=True)
        new = run(osm, after, outlines=True)
        for r in new:
            print(f"| {name} | {r} | {old[r]:.1%} | {mid[r]:.1%} | {new[r]:.1%} |")
    for name, osm in EXTRACTS.items():
        if osm.exists():
            print(name)
            time_homes(osm, after)


if __name__ == "__main__":
    main()
