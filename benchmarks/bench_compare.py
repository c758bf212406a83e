"""Benchmark: circles side by side with the OSMnx isochrone recipe, networkx and pandana.

On the same real walking network (built by circles from an OSM extract) and the same facility
set, each approach runs in its own subprocess (so each peak RSS is its own), timed from the
same network arrays; the script prints one markdown report, checks that every approach agrees
with circles (distances per network node, or the covered node set) and exits non-zero when one
does not. The report is also written to ``benchmarks/RESULTS.md`` (only this section is
replaced).

Networks: Chengdu central (~8k nodes; real facilities of the chosen categories, each moved to
its nearest node of the main network piece) and Porto (~320k nodes; facilities sampled on the
main piece with a fixed seed). Facilities sit exactly on network nodes, so circles' connector
is 0 and every tool starts from the same sources.

    python benchmarks/bench_compare.py [--skip-porto] [--repeat N] [--no-write]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared"
CHENGDU = SHARED / "osm" / "chengdu_central_osmconvert_2018.osm.pbf"
PORTO = SHARED / "osm-scale" / "porto_portugal.osm.pbf"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Side by side: circles vs OSMnx isochrone recipe, networkx, pandana"
PANDANA_TOL_M = 0.1  # required agreement of pandana's distances
EXACT_TOL_M = 1e-6  # float64 tools summing the same lengths in another order
RANGE_BYTES = 8  # pandana's precomputed range entry: pair<NodeID, float>
SMALL_NODES, SMALL_REPEAT = 50_000, 20  # millisecond runs: more repeats, as timeit does
# circles' parts matching another tool's work: networkx and the OSMnx recipe are handed node
# ids (nothing to snap); pandana builds a KD-tree in Network() and snaps POIs in set_pois
LIKE_NX = ("graph", "search")
LIKE_ALL = ("snap", "graph", "search")


# --------------------------------------------------------------------------------------------
# Workers: one approach per subprocess; results go to <out>.json / <out>.npz
# --------------------------------------------------------------------------------------------


def max_rss_mib() -> float:
    """High-water mark of this process's resident set (exact, but includes import spikes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Current resident set (Linux ``/proc``; 0 elsewhere)."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return 0.0
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler(threading.Thread):
    """Samples the current RSS every ``every`` s (for peaks below an earlier high-water mark)."""

    def __init__(self, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.every, self.peak, self.halt = every, rss_mib(), threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.peak = max(self.peak, rss_mib())

    def stop(self) -> float:
        self.halt.set()
        self.join()
        return max(self.peak, rss_mib())


def best_of(repeat: int, run):
    """Run ``run()`` ``repeat`` times; each part's best time (as ``timeit`` takes the best of
    its repeats), and the last result (every run computes the same)."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        timings, result = run()
        best = {k: min(v, best.get(k, v)) for k, v in timings.items()}
    return best, result


def work_circles(net, nodes: np.ndarray, limit: float):
    from circles.access.attach import network_streets
    from circles.access.graph import routing_graph
    from circles.access.search import nearest_facility

    n = net.n_nodes

    def run():
        fresh = dataclasses.replace(net)  # new object: no cached STRtree from an earlier repeat
        t0 = time.perf_counter()
        streets = network_streets(fresh)
        facilities = streets.attach(fresh.node_xy[nodes])
        t1 = time.perf_counter()
        graph = routing_graph(fresh, streets.attach(np.empty((0, 2))), facilities)
        t2 = time.perf_counter()
        access = nearest_facility(graph, np.arange(len(nodes)), limit)
        t3 = time.perf_counter()
        # facilities on nodes: no split points, each source joins exactly its node
        assert graph.n_nodes == n + len(nodes), "a facility was split into an edge"
        joined = graph.matrix[graph.facility_node].indices
        assert np.array_equal(joined, nodes), "a facility did not join its own node"
        timings = {"snap": t1 - t0, "graph": t2 - t1, "search": t3 - t2}
        return timings, access.node_dist_m[:n].copy()

    return run


def work_networkx(net, nodes: np.ndarray, limit: float):
    """networkx has no spatial index: facilities are snapped to their nearest node with
    scipy's KD-tree (what OSMnx's ``nearest_nodes`` does for a projected graph)."""
    import networkx as nx
    from scipy.spatial import cKDTree

    fac_xy = net.node_xy[nodes]

    def run():
        t = time.perf_counter()
        sources = cKDTree(net.node_xy).query(fac_xy)[1]
        t0 = time.perf_counter()
        assert np.array_equal(sources, nodes), "a facility did not snap to its own node"
        graph = nx.Graph()
        graph.add_nodes_from(range(net.n_nodes))
        graph.add_weighted_edges_from(
            zip(net.edge_u.tolist(), net.edge_v.tolist(), net.length_m.tolist(), strict=True),
            weight="length",
        )
        t1 = time.perf_counter()
        found = nx.multi_source_dijkstra_path_length(
            graph, set(sources.tolist()), cutoff=limit, weight="length"
        )
        t2 = time.perf_counter()
        dist = np.full(net.n_nodes, np.inf)
        dist[np.fromiter(found.keys(), np.int64, len(found))] = np.fromiter(
            found.values(), float, len(found)
        )
        return {"snap": t0 - t, "build": t1 - t0, "search": t2 - t1}, dist

    return run


def work_osmnx(net, nodes: np.ndarray, threshold: float):
    """The OSMnx examples' isochrone recipe: ``nearest_nodes`` for the centres, one
    ``ego_graph`` per centre, union of nodes."""
    import networkx as nx
    import osmnx as ox

    u, v, w = net.edge_u.tolist(), net.edge_v.tolist(), net.length_m.tolist()
    x, y = net.node_xy[:, 0].tolist(), net.node_xy[:, 1].tolist()

    def run():
        t0 = time.perf_counter()
        # shaped like OSMnx's walk graph: MultiDiGraph, both directions, node x/y, edge length
        graph = nx.MultiDiGraph(crs=str(net.crs))
        graph.add_nodes_from(
            (i, {"x": a, "y": b}) for i, (a, b) in enumerate(zip(x, y, strict=True))
        )
        graph.add_edges_from(
            (a, b, {"length": c}) for a, b, c in zip(u + v, v + u, w + w, strict=True)
        )
        t1 = time.perf_counter()
        centres = ox.distance.nearest_nodes(graph, net.node_xy[nodes, 0], net.node_xy[nodes, 1])
        t2 = time.perf_counter()
        assert np.array_equal(centres, nodes), "a facility did not snap to its own node"
        covered: set[int] = set()
        for node in centres.tolist():
            covered.update(nx.ego_graph(graph, node, radius=threshold, distance="length").nodes)
        t3 = time.perf_counter()
        mask = np.zeros(net.n_nodes, bool)
        mask[np.fromiter(covered, np.int64, len(covered))] = True
        return {"build": t1 - t0, "snap": t2 - t1, "search": t3 - t2}, mask

    return run


def work_pandana(net, nodes: np.ndarray, limit: float, mode: str):
    """pandana ``Network`` (contraction hierarchy), optional ``precompute``, nearest POI.

    pandana stores edge weights as integer millimetres, truncating (``weight * 1000`` cast
    to an integer). ``mode="mm"`` passes the benchmark's millimetre lengths plus 0.5 mm so
    the truncation keeps them exactly; ``mode="raw"`` passes circles' unrounded float lengths
    (shows pandana's own error; informational).
    """
    import pandana
    import pandas as pd

    mm = np.round(net.length_m * 1000)
    weight = (mm + 0.5) / 1000 if mode.startswith("mm") else net.raw_length_m
    x, y = pd.Series(net.node_xy[:, 0]), pd.Series(net.node_xy[:, 1])
    fx, fy = pd.Series(net.node_xy[nodes, 0]), pd.Series(net.node_xy[nodes, 1])
    precompute = mode.endswith("precompute")

    def run():
        t0 = time.perf_counter()
        pnet = pandana.Network(
            x, y, pd.Series(net.edge_u), pd.Series(net.edge_v), pd.DataFrame({"length": weight})
        )
        t1 = time.perf_counter()
        if precompute:
            pnet.precompute(limit)
        t2 = time.perf_counter()
        pnet.set_pois("facilities", limit, 1, fx, fy)
        t3 = time.perf_counter()
        found = pnet.nearest_pois(limit, "facilities", num_pois=1, max_distance=np.inf)
        t4 = time.perf_counter()
        assert np.array_equal(pnet.get_node_ids(fx, fy).to_numpy(), nodes), "POI off its node"
        timings = {"build": t1 - t0, "precompute": t2 - t1, "set_pois": t3 - t2}
        timings["search"] = t4 - t3
        return timings, found[1].to_numpy(float)

    return run


def worker(args: argparse.Namespace) -> None:
    with Path(args.payload).open("rb") as f:
        payload = pickle.load(f)
    net, nodes = payload["network"], payload["nodes"][: args.n_facilities or None]
    if args.worker == "pandana":
        import pandana  # noqa: F401  (library in the baseline, like the others)
    elif args.worker == "networkx":
        import networkx  # noqa: F401
        import scipy.spatial  # noqa: F401
    elif args.worker == "osmnx":
        import osmnx  # noqa: F401
    else:
        import circles.access.search  # noqa: F401
    if args.worker == "circles":
        run = work_circles(net, nodes, args.limit)
    elif args.worker == "networkx":
        run = work_networkx(net, nodes, args.limit)
    elif args.worker == "osmnx":
        run = work_osmnx(net, nodes, args.limit)
    else:
        run = work_pandana(net, nodes, args.limit, args.mode)
    # memory: one run while a thread samples the RSS; the timed runs go without the thread,
    # whose wake-ups every 10 ms would cost the main thread the GIL
    gc.collect()
    base, base_max = rss_mib(), max_rss_mib()
    sampler = RssSampler()
    sampler.start()
    run()  # result dropped at once
    sampled, high = sampler.stop(), max_rss_mib()
    # a new high-water mark is the exact peak; below the old one, the sampled peak is used
    peak = high if high > base_max else sampled
    gc.collect()
    timings, result = best_of(args.repeat, run)
    report = {"timings": timings, "base_mib": base, "peak_mib": peak}
    report["threads"] = os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))
    Path(args.out + ".json").write_text(json.dumps(report))
    np.save(args.out + ".npy", result)


# --------------------------------------------------------------------------------------------
# Orchestrator
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Setup:
    title: str
    payload: Path
    net: object
    nodes: np.ndarray
    notes: list[str]
    repeat: int


def spawn(setup: Setup, approach: str, limit: float, args, n_fac: int = 0, mode: str = ""):
    out = str(setup.payload.with_suffix("")) + f"_{approach}{mode}_{int(limit)}_{n_fac}"
    cmd = [sys.executable, __file__, "--worker", approach, "--payload", str(setup.payload)]
    cmd += ["--limit", str(limit), "--out", out, "--repeat", str(setup.repeat)]
    cmd += ["--n-facilities", str(n_fac), "--mode", mode]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        msg = f"{approach} worker failed on {setup.title}"
        raise RuntimeError(msg)
    report = json.loads(Path(out + ".json").read_text())
    report["result"] = np.load(out + ".npy")
    return report


def mm_lengths(length_m: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(length_m * 1000), 1) / 1000


def on_own_node(net, nodes: np.ndarray) -> np.ndarray:
    """Whether circles' snap of each node's position lands on that node (not a crossing edge)."""
    from circles.access.attach import network_streets
    from circles.access.graph import SNAP_TOLERANCE_M

    snap = network_streets(net).attach(net.node_xy[nodes])
    length = net.length_m[snap.piece]
    at_u = (snap.offset_m <= SNAP_TOLERANCE_M) & (net.edge_u[snap.piece] == nodes)
    at_v = (snap.offset_m >= length - SNAP_TOLERANCE_M) & (net.edge_v[snap.piece] == nodes)
    return at_u | at_v


def load_network(path: Path, standards):
    from circles.model.network import network_from_extract
    from circles.pipeline import feature_keys
    from circles.sources.osm import read_extract

    extract = read_extract(path, feature_keys(standards))
    net = network_from_extract(extract, standards.network)
    raw = net.length_m
    net = dataclasses.replace(net, length_m=mm_lengths(raw))
    net.raw_length_m = raw  # for the informational pandana run on unrounded lengths
    return extract, net


def save_setup(title, net, nodes, notes, tmp: Path, repeat: int) -> Setup:
    clean = dataclasses.replace(net)  # without the STRtree cached by on_own_node
    clean.raw_length_m = net.raw_length_m
    fd, name = tempfile.mkstemp(suffix=".pkl", dir=tmp)
    with os.fdopen(fd, "wb") as f:
        pickle.dump({"network": clean, "nodes": nodes}, f, protocol=pickle.HIGHEST_PROTOCOL)
    repeat = repeat or (SMALL_REPEAT if net.n_nodes < SMALL_NODES else 3)
    notes.append(f"N = {repeat} runs per approach, in its process")
    return Setup(title, Path(name), net, nodes, notes, repeat)


def network_note(net) -> str:
    main = int((net.component == net.main_component).sum())
    return (
        f"network: {net.n_nodes:,} nodes, {net.n_edges:,} edges ({main:,} nodes in the main piece)"
    )


def chengdu_setups(standards, categories: list[str], tmp: Path, repeat: int) -> list[Setup]:
    from scipy.spatial import cKDTree

    from circles.model.facilities import facilities_from_osm

    extract, net = load_network(CHENGDU, standards)
    facilities = facilities_from_osm(extract.features, standards.categories, net.crs)
    main = np.flatnonzero(net.component == net.main_component)
    tree = cKDTree(net.node_xy[main])
    setups = []
    for category in categories:
        points = facilities[facilities["category_id"] == category]
        xy = net.to_metric(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
        moved, idx = tree.query(xy)
        nodes = np.unique(main[idx])
        ok = on_own_node(net, nodes)
        notes = [
            network_note(net),
            f"facilities: the {len(points)} OSM `{category}` facilities of the extract, each "
            f"moved to its nearest main-piece node (median move {np.median(moved):.0f} m) "
            f"-> {len(nodes)} distinct nodes"
            + (
                f"; {int((~ok).sum())} dropped (snap lands on a crossing edge)"
                if not ok.all()
                else ""
            ),
        ]
        title = f"Chengdu central ({CHENGDU.name}), {category}"
        setups.append(save_setup(title, net, nodes[ok], notes, tmp, repeat))
    return setups


def porto_setup(standards, n_facilities: int, seed: int, tmp: Path, repeat: int) -> Setup:
    _, net = load_network(PORTO, standards)
    rng = np.random.default_rng(seed)
    main = np.flatnonzero(net.component == net.main_component)
    nodes = np.sort(rng.choice(main, n_facilities, replace=False))
    ok = on_own_node(net, nodes)
    notes = [
        network_note(net),
        f"facilities: {n_facilities} nodes sampled uniformly on the main piece "
        f"(numpy default_rng seed {seed}); the extract has almost no POIs"
        + (f"; {int((~ok).sum())} dropped (snap lands on a crossing edge)" if not ok.all() else ""),
    ]
    return save_setup(f"Porto ({PORTO.name})", net, nodes[ok], notes, tmp, repeat)


def range_table_gib(net, limit: float, sample: int = 30) -> tuple[float, float]:
    """Estimated size of pandana's ``precompute(limit)`` table: nodes within ``limit`` of each
    node (mean over sampled main-piece nodes) x all nodes x 8 bytes."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    n = net.n_nodes
    uv = np.concatenate([net.edge_u, net.edge_v]), np.concatenate([net.edge_v, net.edge_u])
    matrix = csr_array((np.concatenate([net.length_m, net.length_m]), uv), shape=(n, n))
    main = np.flatnonzero(net.component == net.main_component)
    src = np.random.default_rng(0).choice(main, min(sample, len(main)), replace=False)
    mean = float(np.isfinite(dijkstra(matrix, indices=src, limit=limit)).sum(axis=1).mean())
    return mean, n * mean * RANGE_BYTES / 2**30


def compare_dist(ref: np.ndarray, other: np.ndarray, limit: float, tol: float) -> dict:
    r, o = np.isfinite(ref), np.isfinite(other)
    both = r & o
    diff = np.abs(ref[both] - other[both])
    only = r ^ o
    near_limit = np.abs(np.where(r, ref, other)[only] - limit) <= max(tol, 1e-3)
    return {
        "both": int(both.sum()),
        "max": float(diff.max()) if len(diff) else 0.0,
        "p99": float(np.quantile(diff, 0.99)) if len(diff) else 0.0,
        "only_ref": int((r & ~o).sum()),
        "only_other": int((o & ~r).sum()),
        "boundary": int(near_limit.sum()),
        "ok": bool((diff <= tol).all() and near_limit.all()),
    }


def dist_text(c: dict, tol: float, checked: bool = True) -> str:
    text = (
        f"{c['both']:,} nodes reached by both; max abs diff {c['max']:.2g} m "
        f"(p99 {c['p99']:.2g} m, tolerance {tol:g} m)"
    )
    if c["only_ref"] or c["only_other"]:
        text += (
            f"; reached only by circles {c['only_ref']}, only by the other {c['only_other']} "
            f"({c['boundary']} of them within the tolerance, at least 1 mm, of the limit)"
        )
    else:
        text += "; same reached set"
    if c["ok"]:
        return text
    return text + (" **DISAGREES**" if checked else " (over the tolerance; informational)")


def compare_cover(ref_dist: np.ndarray, covered: np.ndarray, threshold: float) -> dict:
    ref = ref_dist <= threshold
    differ = ref != covered
    near = np.abs(ref_dist[differ] - threshold) <= EXACT_TOL_M
    return {
        "ref": int(ref.sum()),
        "other": int(covered.sum()),
        "differ": int(differ.sum()),
        "boundary": int(near.sum()),
        "ok": bool(near.all()),
    }


def cover_text(c: dict, threshold: float) -> str:
    text = (
        f"covered nodes (≤ {threshold:g} m): circles {c['ref']:,}, recipe {c['other']:,}; "
        f"{c['differ']} differ"
    )
    if c["differ"]:
        text += f" ({c['boundary']} at the threshold within {EXACT_TOL_M:g} m)"
    return text + ("" if c["ok"] else " **DISAGREES**")


def fmt_parts(parts: dict[str, float], names: dict[str, str]) -> str:
    return " + ".join(f"{names[k]} {v:.3f}" for k, v in parts.items() if k in names)


def mem_text(r: dict) -> str:
    return f"{r['peak_mib']:.0f} (+{r['peak_mib'] - r['base_mib']:.0f})"


def ratio_text(other: dict, circles: dict, target: float, like: tuple[str, ...]) -> str:
    """Ratio of the other tool's time, without its snapping, to circles' parts ``like`` (the
    same work: routing from the facility nodes); when ``like`` leaves circles' snapping out,
    also the whole-job ratio, each tool's own snapping included."""
    t, o = circles["timings"], other["timings"]
    same = sum(v for k, v in o.items() if k != "snap") / sum(t[k] for k in like)
    query = o["search"] / t["search"]
    verdict = "met" if same >= target else "**missed**"
    text = f"**{same:.1f}×**"
    if set(like) != set(t):
        whole = sum(o.values()) / sum(t.values())
        text += f" (routing from the nodes); whole job incl. each tool's snapping {whole:.1f}×"
    return f"{text}; query only {query:.0f}×; target ≥{target:g}×: {verdict}"


def entry(label, report: dict, names: dict[str, str], ratio, agreement, note="") -> tuple:
    """One table row of an approach's run: label, timed parts, wall, memory, ratio, agreement."""
    timed = fmt_parts(report["timings"], names) + note
    return (label, timed, sum(report["timings"].values()), mem_text(report), ratio, agreement)


def bench_setup(setup: Setup, args, out: list[str]) -> bool:
    """Run all approaches on one setup, append its markdown table to ``out``; True if agreed."""
    net, limit, thr = setup.net, args.limit, args.threshold
    n_all = len(setup.nodes)
    n_iso = min(n_all, args.osmnx_max_facilities) if args.osmnx_max_facilities else n_all
    entries, agreed = [], True  # (approach, timed, wall, mem, ratio, agreement)

    circ = spawn(setup, "circles", limit, args)
    circ_names = {
        "snap": f"STRtree of {net.n_edges:,} edges + snap {n_all} facilities",
        "graph": "routing graph (CSR)",
        "search": "multi-source Dijkstra",
    }
    entries.append(entry(f"**circles**, limit {limit:g} m", circ, circ_names, "1×", "reference"))

    nxr = spawn(setup, "networkx", limit, args)
    c = compare_dist(circ["result"], nxr["result"], limit, EXACT_TOL_M)
    agreed &= c["ok"]
    names = {
        "snap": "KD-tree nearest node",
        "build": "nx.Graph from arrays",
        "search": "multi_source_dijkstra_path_length",
    }
    entries.append(
        entry(
            f"networkx {version('networkx')}, cutoff {limit:g} m",
            nxr,
            names,
            ratio_text(nxr, circ, 10, LIKE_NX),
            dist_text(c, EXACT_TOL_M),
        )
    )

    mean, gib = range_table_gib(net, limit)
    modes = ["mm"] + (["mm_precompute"] if gib <= args.precompute_max_gib else [])
    for mode in [*modes, "raw"]:
        pan = spawn(setup, "pandana", limit, args, mode=mode)
        c = compare_dist(circ["result"], pan["result"], limit, PANDANA_TOL_M)
        names = {"build": "Network() incl. contraction hierarchy", "set_pois": "set_pois"}
        names["search"] = "nearest_pois"
        if mode == "mm_precompute":
            names["precompute"] = f"precompute({limit:g})"
        label = f"pandana {version('pandana')}"
        if mode == "raw":
            label += ", unrounded float lengths (informational, not checked)"
        else:
            agreed &= c["ok"]
            if mode == "mm_precompute":
                label += f" with precompute({limit:g})"
        entries.append(
            entry(
                label,
                pan,
                names,
                ratio_text(pan, circ, 1, LIKE_ALL),
                dist_text(c, PANDANA_TOL_M, checked=mode != "raw"),
                note=f" ({pan['threads']} OpenMP threads)",
            )
        )
    if len(modes) == 1:
        entries.append(
            (
                f"pandana with precompute({limit:g})",
                f"not run: its range table would hold ~{mean:,.0f} nodes per node x "
                f"{net.n_nodes:,} nodes x {RANGE_BYTES} B ≈ {gib:.1f} GiB (estimated from 30 "
                "sampled nodes; > --precompute-max-gib); nearest_pois does not use it",
                "-",
                "-",
                "-",
                "-",
            )
        )

    circ_iso = spawn(setup, "circles", thr, args, n_fac=n_iso)
    circ_names["snap"] = f"STRtree of {net.n_edges:,} edges + snap {n_iso} facilities"
    label = f"**circles**, limit {thr:g} m (for the recipe)"
    entries.append(entry(label, circ_iso, circ_names, "1×", "reference"))
    iso = spawn(setup, "osmnx", thr, args, n_fac=n_iso)
    c = compare_cover(circ_iso["result"], iso["result"].astype(bool), thr)
    agreed &= c["ok"]
    names = {"build": "OSMnx-shaped MultiDiGraph from arrays", "snap": "nearest_nodes"}
    names["search"] = f"{n_iso} × ego_graph(radius={thr:g}, distance='length') + union"
    entries.append(
        entry(
            f"OSMnx isochrone recipe (networkx {version('networkx')})",
            iso,
            names,
            ratio_text(iso, circ_iso, 100, LIKE_NX),
            cover_text(c, thr),
        )
    )
    if n_iso < n_all:
        setup.notes.append(
            f"OSMnx recipe and its circles reference run on the first {n_iso} of the "
            f"{n_all} facilities (--osmnx-max-facilities); nothing is extrapolated"
        )

    out.append(f"### {setup.title}\n")
    out.extend(f"- {note}" for note in setup.notes)
    out.append("")
    out.append(
        "| approach | what is timed (s) | wall s | peak RSS MiB (+ over start) "
        "| ratio vs circles | agreement with circles |"
    )
    out.append("|---|---|---|---|---|---|")
    for name, timed, wall, mem, ratio, agree in entries:
        wall_s = f"{wall:.3f}" if isinstance(wall, float) else wall
        out.append(f"| {name} | {timed} | {wall_s} | {mem} | {ratio} | {agree} |")
    out.append("")
    return agreed


def header(args) -> list[str]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    libs = ["circles", "numpy", "scipy", "shapely", "networkx", "osmnx", "pandana"]
    return [
        SECTION,
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.system()} {platform.release()}, "
        f"{cpu}, {os.cpu_count()} CPUs (shared; timings are noisy), Python "
        f"{platform.python_version()}; " + ", ".join(f"{n} {version(n)}" for n in libs) + ".",
        "",
        "How to read it:",
        "",
        "- Every approach starts from the same arrays (circles' walking network: nodes, "
        "edges, lengths) and the same facilities, given as the coordinates of network nodes; "
        "reading the OSM file and building those arrays is not timed. Each approach runs in "
        "its own subprocess and is run N times there (N is given per network and is the same "
        "for every approach); each part's time is its best of the N runs, *wall s* the sum of "
        "the parts. Memory is measured in one more run, before the timed ones (the RSS-"
        "sampling thread would take the GIL from the timed code).",
        "- Each tool snaps the facilities its own way: circles to the nearest edge (an STRtree "
        "over all edges; a facility on a node joins that node), networkx (which has no "
        "spatial index) and the OSMnx recipe to the nearest node (a KD-tree; OSMnx's "
        "`nearest_nodes`), pandana in `Network()` (KD-tree) and `set_pois`. The script "
        "checks that every facility lands on its own node.",
        "- *ratio* (bold; the issue's targets are judged on it) = the other tool's time for "
        "the same work / circles' time for it: for networkx and the OSMnx recipe, routing "
        "from the facility nodes (graph + search; their snapping and circles' left out on "
        "both sides), with the whole-job ratio (each tool's snapping included) shown next to "
        "it; for pandana, whose Network() and set_pois mix snapping with preprocessing, the "
        "whole job on both sides. *query only* compares the search calls alone.",
        "- Peak RSS is the subprocess's resident memory at its highest while the approach ran "
        "(`ru_maxrss` when the approach set a new high-water mark, otherwise the highest of "
        "samples taken every 10 ms); in brackets, how much that is above the RSS after "
        "imports and loading the network, i.e. what the approach itself adds.",
        "- Edge lengths are rounded to the millimetre for all approaches: pandana stores "
        "weights as integer millimetres (truncating `weight * 1000`, see pandana's "
        "graphalg.cpp) and returns float32 distances, so it is given the same millimetres "
        "plus 0.5 mm, which its truncation maps back to exactly those millimetres. The "
        "informational pandana row passes circles' unrounded lengths and shows the error "
        "truncation adds along a path.",
        f"- Distances are compared on every network node (circles' `node_dist_m` of nodes "
        f"0..n-1; facilities sit on nodes, so no edge is split). networkx must agree to "
        f"{EXACT_TOL_M:g} m, pandana to {PANDANA_TOL_M:g} m; a node reached by one tool and "
        "not the other only counts as agreement when its distance is within the tolerance "
        "(at least 1 mm) of the limit. The OSMnx recipe's covered set must equal circles' "
        "nodes with distance ≤ threshold, up to nodes within 1e-06 m of the threshold.",
        "- circles and networkx are single-threaded; pandana uses OpenMP threads (shown).",
        "- pandana's `precompute(limit)` caches range queries for `aggregate()`; "
        "`nearest_pois` does not use them. It is shown as a separate row (part of pandana's "
        "usual preprocessing) and skipped where its table would not fit in memory.",
        "- The OSMnx recipe is the isochrone example of the OSMnx examples notebook "
        "(`nx.ego_graph(G, node, radius=..., distance=...)` per centre) applied to every "
        "facility, with the union of reached nodes as the covered set. Its graph is a "
        "MultiDiGraph shaped like OSMnx's walk graph (both directions, node x/y, edge length "
        "only); a real OSMnx graph carries more attributes, which ego_graph's subgraph copy "
        "also copies, so the recipe is if anything favoured here.",
        "",
    ]


def write_results(text: str, path: Path) -> None:
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    lines = old.splitlines()
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = text.rstrip("\n").splitlines() + ([""] if end < len(lines) else [])
    else:
        lines += ["", *text.rstrip("\n").splitlines()]
    path.write_text("\n".join(lines).rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-porto", action="store_true")
    parser.add_argument(
        "--categories",
        nargs="+",
        default=["primary_school", "supermarket"],
        help="Chengdu facility categories (one table each)",
    )
    parser.add_argument("--porto-facilities", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=float, default=3000.0, help="search limit, m")
    parser.add_argument("--threshold", type=float, default=1000.0, help="isochrone radius, m")
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help=f"runs per approach, best kept (default: {SMALL_REPEAT} on networks under "
        f"{SMALL_NODES:,} nodes, where one run takes milliseconds, else 3)",
    )
    parser.add_argument(
        "--osmnx-max-facilities",
        type=int,
        default=0,
        help="run the OSMnx recipe (and its circles reference) on the first N "
        "facilities only; 0 = all",
    )
    parser.add_argument(
        "--precompute-max-gib",
        type=float,
        default=2.0,
        help="skip pandana precompute when its range table is estimated larger",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    # internal: one approach in a subprocess
    parser.add_argument("--worker", choices=["circles", "networkx", "osmnx", "pandana"])
    parser.add_argument("--payload")
    parser.add_argument("--out")
    parser.add_argument("--n-facilities", type=int, default=0)
    parser.add_argument("--mode", default="")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    from circles import load_standards

    standards = load_standards()
    out = header(args)
    print("\n".join(out), flush=True)
    agreed = True
    with tempfile.TemporaryDirectory(prefix="bench_compare_") as tmp:
        setups = chengdu_setups(standards, args.categories, Path(tmp), args.repeat)
        if not args.skip_porto:
            setups.append(
                porto_setup(standards, args.porto_facilities, args.seed, Path(tmp), args.repeat)
            )
        for setup in setups:
            table: list[str] = []
            agreed &= bench_setup(setup, args, table)
            print("\n".join(table), flush=True)
            out += table
    verdict = "all approaches agree with circles" if agreed else "**DISAGREEMENT, see above**"
    out.append(f"Agreement check: {verdict}.")
    print(out[-1])
    if not args.no_write:
        write_results("\n".join(out), RESULTS)
    if not agreed:
        sys.exit(1)


if __name__ == "__main__":
    main()
