"""Walking distances: exact answers on toy graphs, and equality with networkx on real extracts."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.ops import substring

from circles import pipeline
from circles.access.attach import network_streets
from circles.access.graph import routing_graph
from circles.access.search import nearest_facility
from circles.model.facilities import facility_entrances
from circles.model.network import Network, network_from_extract
from conftest import rectangle_block


def toy_network() -> Network:
    """A 3-node path 0 -(100 m)- 1 -(200 m)- 2 along the x axis, plus a 50 m spur 1-3 north."""
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [300.0, 0.0], [100.0, 50.0]])
    u, v = np.array([0, 1, 1]), np.array([1, 2, 3])
    return Network(
        crs=CRS.from_epsg(32648),
        node_osm_id=np.arange(4),
        node_xy=xy,
        edge_u=u,
        edge_v=v,
        length_m=np.hypot(*(xy[u] - xy[v]).T),
        edge_way_id=np.zeros(3, np.int64),
        edge_highway=np.array(["footway"] * 3, dtype=object),
        component=np.zeros(4, np.int64),
        main_component=0,
        read_area_m=shapely.box(-10, -10, 310, 60),
    )


def test_toy_exact_distances_count_connectors_and_same_edge_walks():
    net = toy_network()
    homes = network_streets(net).attach(np.array([[50.0, 10.0], [250.0, -20.0], [100.0, 40.0]]))
    shops = network_streets(net).attach(np.array([[200.0, 5.0]]))
    graph = routing_graph(net, homes, shops)
    acc = nearest_facility(graph, np.array([0]), limit_m=10_000)
    # home 0: 10 connector + 150 along the street + 5 shop connector
    # home 1: 20 + 50 (same edge as the shop) + 5; home 2: on the spur, 40 + 100 + 5
    np.testing.assert_allclose(acc.point_dist_m, [165.0, 75.0, 145.0])
    np.testing.assert_array_equal(acc.nearest_facility, [0, 0, 0])


def block_network() -> Network:
    """One block: a south street y=0 and a north street y=40 from x=0 to x=360, joined by
    streets at both ends (four ways)."""
    return rectangle_block(360.0, 40.0)


def test_home_and_facility_across_a_block_walk_out_on_the_short_side():
    """A home 20 m from a kindergarten, each nearest to an opposite side of the block: joined
    to its nearest street only, the walk goes round the block (420 m); joined to every street
    within 50 m of the nearest, it crosses the block (40 m)."""
    net, streets = block_network(), network_streets(block_network())
    home, kindergarten = shapely.points([[180.0, 30.0]]), shapely.points([[180.0, 10.0]])
    nearest_only = routing_graph(
        net, streets.attach_near(home, 0.0, 1), streets.attach_near(kindergarten, 0.0, 1)
    )
    walk = nearest_facility(nearest_only, np.array([0]), 10_000).point_dist_m
    np.testing.assert_allclose(walk, [10 + 180 + 40 + 180 + 10])
    homes, shops = streets.attach_near(home, 50.0, 4), streets.attach_near(kindergarten, 50.0, 4)
    assert list(homes.piece) == [2, 0] and list(shops.piece) == [0, 2]  # nearest first
    acc = nearest_facility(routing_graph(net, homes, shops), np.array([0]), 10_000)
    np.testing.assert_allclose(acc.point_dist_m, [40.0])
    assert acc.nearest_facility[0] == 0


def test_an_area_joins_from_its_outline_and_a_point_at_most_once_per_street():
    streets = network_streets(block_network())
    school = shapely.box(150.0, 5.0, 250.0, 35.0)  # its middle is 20 m from both streets
    att = streets.attach_near(np.array([school]), 50.0, 16)
    np.testing.assert_allclose(att.connector_m, [5.0, 5.0])
    assert sorted(att.piece) == [0, 2]
    touching = streets.attach_near(np.array([shapely.box(100.0, 0.0, 120.0, 20.0)]), 50.0, 16)
    assert touching.connector_m[0] == 0.0
    # a home near a corner: both corner streets, each once; the far side is beyond 50 m more
    corner = streets.attach_near(shapely.points([[350.0, 10.0]]), 50.0, 4)
    assert list(corner.piece) == [0, 1, 2] and corner.owner.tolist() == [0, 0, 0]  # ties: by id
    np.testing.assert_allclose(corner.connector_m, [10.0, 10.0, 30.0])
    assert list(streets.attach_near(shapely.points([[350.0, 10.0]]), 50.0, 2).piece) == [0, 1]


def test_a_schoolyard_with_a_gate_joins_at_the_gate_not_the_nearest_outline_point():
    """A schoolyard 5 m from both streets of a block, its one gate on the north side: a home
    just south of the block walks round the block to the gate (415 m), not out of the south
    side; without the gate it joins from the outline as before."""
    net = block_network()
    streets = network_streets(net)
    yard, gate = shapely.box(150.0, 5.0, 250.0, 35.0), shapely.multipoints([[200.0, 35.0]])
    home = streets.attach_near(shapely.points([[160.0, -10.0]]), 20.0, 4)
    walks = []
    for entrances in ([gate], [None]):
        join = streets.attach_entrances(np.array([yard]), np.array(entrances), 20.0, 16, 4)
        graph = routing_graph(net, home, join)
        walks.append(nearest_facility(graph, np.array([0]), limit_m=10_000).point_dist_m[0])
        if entrances[0] is not None:
            assert list(join.piece) == [2] and join.connector_m.tolist() == [5.0]  # north only
    # through the gate: 10 + 160 along the south street + 40 + 200 to x=200 + 5 (either way);
    # from the outline: a corner of its south side (GEOS picks one), at most 10 + 90 + 5
    assert walks[0] == pytest.approx(415.0) and walks[1] <= 105.0 + 1e-9


def test_a_school_along_a_street_is_entered_from_either_end_of_its_frontage():
    """A school 320 m along the south street, closest to it at its west end: a home at its
    east end walks round the corner to the east street (68 m) when the school joins each
    street only where it is closest; joined along its frontage (a point every 20 m), it
    walks straight in (< 20 m). A frontage point beyond ``extra_m`` of the nearest street is
    not joined."""
    net = block_network()
    streets = network_streets(net)
    school = shapely.Polygon([(20, 3), (340, 8), (340, 18), (20, 13)])
    home = streets.attach_near(shapely.points([[330.0, -10.0]]), 0.0, 1)
    walks = []
    for frontage_m in (0.0, 20.0):
        join = streets.attach_entrances(
            np.array([school]), np.array([None]), 50.0, 16, 4, frontage_m
        )
        graph = routing_graph(net, home, join)
        walks.append(nearest_facility(graph, np.array([0]), limit_m=10_000).point_dist_m[0])
        assert (join.connector_m <= 3.0 + 50.0).all() and (np.diff(join.connector_m) >= 0).all()
    assert walks[0] == pytest.approx(10 + 30 + 8 + 20)  # round the corner to its east end
    assert walks[1] < 20.0
    tight = streets.attach_entrances(np.array([school]), np.array([None]), 3.0, 16, 4, 20.0)
    assert set(tight.piece) == {0} and tight.connector_m.max() <= 6.0


def test_entrances_are_gates_and_entrance_nodes_on_or_near_the_outline():
    crs = CRS.from_epsg(32648)
    yard_m = shapely.box(400_000.0, 3_300_000.0, 400_100.0, 3_300_060.0)
    points_m = [
        [400_050.0, 3_300_060.0],
        [400_100.0, 3_300_030.0],
        [400_050.0, 3_300_030.0],
        [400_103.0, 3_300_010.0],
        [400_050.0, 3_299_980.0],
        [400_000.0, 3_300_000.0],
    ]
    tags = [
        {"barrier": "gate"},
        {"entrance": "main"},
        {"entrance": "yes"},  # last: inside
        {"barrier": "gate"},
        {"barrier": "gate"},
        {"barrier": "bollard"},
    ]
    geoms = gpd.GeoSeries([*shapely.points(points_m), yard_m], crs=crs).to_crs("EPSG:4326")
    features = gpd.GeoDataFrame(
        {"osm_type": ["node"] * 6 + ["way"], "tags": [*tags, {"amenity": "school"}]},
        geometry=geoms.values,
        crs="EPSG:4326",
    )
    found = facility_entrances(features, np.array([geoms.iloc[6], None], object), crs)
    assert found[1] is None
    gates = gpd.GeoSeries(shapely.get_parts(found[0]), crs="EPSG:4326").to_crs(crs)
    got = np.sort(gates.get_coordinates().round(3).to_numpy(), axis=0)
    np.testing.assert_allclose(got, np.sort(points_m[:2] + points_m[3:4], axis=0))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_more_joins_never_lengthen_a_walk_and_nearest_first_equals_attach(data):
    net = block_network()
    streets = network_streets(net)
    pts = st.tuples(st.floats(-20, 380), st.floats(-20, 60))
    homes_xy = np.array(data.draw(st.lists(pts, min_size=1, max_size=6)))
    shops_xy = np.array(data.draw(st.lists(pts, min_size=1, max_size=3)))
    one = [streets.attach_near(shapely.points(xy), 0.0, 1) for xy in (homes_xy, shops_xy)]
    many = [streets.attach_near(shapely.points(xy), 50.0, 4) for xy in (homes_xy, shops_xy)]
    nearest = streets.attach(homes_xy).connector_m
    np.testing.assert_allclose(many[0].first().connector_m, nearest, atol=1e-9)
    rows = np.arange(len(shops_xy))
    fewer = nearest_facility(routing_graph(net, *one), rows, 10_000).point_dist_m
    more = nearest_facility(routing_graph(net, *many), rows, 10_000).point_dist_m
    assert (more <= fewer + 2e-3).all()  # split points sit on the millimetre
    crow = np.hypot(*(homes_xy[:, None] - shops_xy[None]).transpose(2, 0, 1)).min(axis=1)
    assert (more >= crow - 2e-3).all()


def test_toy_limit_leaves_far_points_unreached_with_nan():
    net = toy_network()
    homes = network_streets(net).attach(np.array([[0.0, 0.0], [300.0, 0.0]]))
    shops = network_streets(net).attach(np.array([[300.0, 0.0]]))
    graph = routing_graph(net, homes, shops)
    acc = nearest_facility(graph, np.array([0]), limit_m=250)
    assert np.isnan(acc.point_dist_m[0])
    assert acc.nearest_facility[0] == -1
    assert acc.point_dist_m[1] == 0.0


def test_no_facility_gives_all_unreached():
    net = toy_network()
    homes = network_streets(net).attach(np.array([[0.0, 0.0]]))
    graph = routing_graph(net, homes, network_streets(net).attach(np.empty((0, 2))))
    acc = nearest_facility(graph, np.array([], dtype=np.int64), 1000)
    assert np.isnan(acc.point_dist_m).all()


def to_networkx(graph) -> nx.DiGraph:
    """The routing graph's streets and facility connectors rebuilt edge by edge as a networkx
    DiGraph."""
    g = nx.DiGraph()
    for u, v, w, directed in zip(
        graph.edge_u, graph.edge_v, graph.edge_w, graph.directed, strict=True
    ):
        g.add_edge(int(u), int(v), weight=float(w))
        if not directed:
            g.add_edge(int(v), int(u), weight=float(w))
    return g


def facility_targets(analysis) -> np.ndarray:
    """What homes walk to across a block, found again from the extract (metric): each
    facility's mapped entrances, else its outline, else its point."""
    standards = analysis.standards
    given = pipeline.read_planner_inputs(None, None, None, (), None, None, "wgs84")
    extract = pipeline.read_osm(
        analysis.inputs[0], standards, None, pipeline.default_buffer_m(standards), True
    )
    network = network_from_extract(extract, standards.network, True)
    found = pipeline.find_facilities(extract, network, standards, given)
    targets = found.table.geometry.to_numpy().copy()
    for extra in (found.outlines, found.entrances):  # entrances last: they win
        has = np.array([isinstance(e, shapely.Geometry) and not e.is_empty for e in extra])
        targets[has] = extra[has]
    return gpd.GeoSeries(list(targets), crs="EPSG:4326").to_crs(analysis.crs).to_numpy()


def links_across(homes: np.ndarray, targets: np.ndarray, streets: np.ndarray, max_m: float):
    """Pairs (home, facility) at most ``max_m`` apart whose shortest line meets no street but
    within 1 mm of its ends, by brute force: ``(i, j, metres)``."""
    i, j = np.nonzero(shapely.distance(homes[:, None], targets[None, :]) <= max_m)
    lines = shapely.shortest_line(homes[i], targets[j])
    metres = shapely.length(lines)
    union = shapely.union_all(streets)
    shapely.prepare(union)
    blocked = np.array(
        [
            m > 2e-3 and union.intersects(substring(ln, 1e-3, m - 1e-3))
            for ln, m in zip(lines, metres, strict=True)
        ]
    )
    return i[~blocked], j[~blocked], metres[~blocked]


def test_distances_equal_networkx_multi_source_dijkstra_on_real_extracts(real):
    """Every category's distances equal networkx's multi-source Dijkstra within 0.01 m: over
    every street join of each home, from every join of each facility (directed connectors),
    and over the walks across a block found again here by brute force (from the facility,
    as an edge to the home)."""
    graph = real.state.graph
    g = to_networkx(graph)
    demand, fac = real.demand_points, real.facilities
    homes_m = demand.to_crs(real.crs).get_coordinates().to_numpy()
    np.testing.assert_allclose(graph.point_xy, homes_m, atol=1e-3)
    streets = real.network[real.network["in_main"]].to_crs(real.crs).geometry.to_numpy()
    i, j, metres = links_across(
        shapely.points(graph.point_xy),
        facility_targets(real),
        streets,
        real.standards.analysis.attach_across_m,
    )
    street = graph.point_node < graph.facility_node[0]
    for node, home, w in zip(
        graph.point_node[street],
        graph.point_owner[street],
        graph.point_connector_m[street],
        strict=True,
    ):
        g.add_edge(int(node), ("home", int(home)), weight=float(w))
    for home, facility, w in zip(i, j, metres, strict=True):
        g.add_edge(int(graph.facility_node[facility]), ("home", int(home)), weight=float(w))
    assert len(i) > 20, "some homes walk across their block"
    checked = 0
    for cat_id, acc in real.state.access.items():
        rows = np.flatnonzero(fac["category_id"].to_numpy() == cat_id)
        if len(rows) == 0:
            continue
        ref = nx.multi_source_dijkstra_path_length(
            g, {int(n) for n in graph.facility_node[rows]}, cutoff=acc.limit_m
        )
        expect = np.array([ref.get(("home", k), np.inf) for k in range(len(demand))])
        ours = np.where(np.isnan(acc.point_dist_m), np.inf, acc.point_dist_m)
        reached = np.isfinite(expect)
        np.testing.assert_array_equal(np.isfinite(ours), reached)
        np.testing.assert_allclose(ours[reached], expect[reached], rtol=0, atol=0.01)
        np.testing.assert_allclose(
            demand[f"dist_m.{cat_id}"].to_numpy()[reached], expect[reached], rtol=0, atol=0.01
        )
        checked += int(reached.sum())
    assert checked > 1000
    assert street.sum() > len(demand), "homes join several streets"
    assert street[graph.point_starts].all(), "a home's first join is a street (candidates)"
    fac_edges = graph.edge_u[graph.directed]
    assert len(np.unique(fac_edges)) < len(fac_edges), "some facility joins several streets"


def test_snapping_agrees_with_shapely_projection(chengdu):
    """Connector lengths equal shapely's independent distance to the nearest main-network edge."""
    edges = chengdu.network[chengdu.network["in_main"]]
    crs = edges.estimate_utm_crs()
    lines = edges.to_crs(crs).geometry.values
    pts = chengdu.demand_points.to_crs(crs).geometry.values[:300]
    tree = shapely.STRtree(lines)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    ours = chengdu.demand_points["connector_m"].to_numpy()[:300]
    # UTM zone chosen by geopandas in both cases; sub-millimetre float noise only
    np.testing.assert_allclose(ours, dist, atol=0.01)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_adding_a_facility_never_lengthens_a_walk(data):
    net = toy_network()
    rng_pts = st.tuples(st.floats(-20, 320), st.floats(-20, 70))
    homes_xy = np.array(data.draw(st.lists(rng_pts, min_size=1, max_size=8)))
    shops_xy = np.array(data.draw(st.lists(rng_pts, min_size=2, max_size=5)))
    homes, shops = network_streets(net).attach(homes_xy), network_streets(net).attach(shops_xy)
    graph = routing_graph(net, homes, shops)
    fewer = nearest_facility(graph, np.arange(len(shops_xy) - 1), 10_000)
    more = nearest_facility(graph, np.arange(len(shops_xy)), 10_000)
    assert (more.point_dist_m <= fewer.point_dist_m + 1e-9).all()


def test_point_far_outside_network_keeps_its_connector():
    net = toy_network()
    homes = network_streets(net).attach(np.array([[0.0, 500.0]]))
    shops = network_streets(net).attach(np.array([[0.0, 0.0]]))
    acc = nearest_facility(routing_graph(net, homes, shops), np.array([0]), 1e4)
    assert acc.point_dist_m[0] == pytest.approx(np.hypot(100, 450) + 150)


def test_demand_points_are_spread_not_centroids(chengdu):
    per = chengdu.demand_points.groupby("community_id").size()
    big = chengdu.communities[chengdu.communities["area_m2"] > 20_000]["community_id"]
    assert (per.reindex(big).fillna(0) > 1).all()
    assert isinstance(chengdu.demand_points, gpd.GeoDataFrame)
