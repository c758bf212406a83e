"""Walking network: which ways are walkable, lengths, clipping and disconnected pieces."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest

from circles.model.network import _cell_key, _utm_crs, is_walkable, network_from_extract
from circles.sources.osm import read_extract
from conftest import CHENGDU, need


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "residential"}, True),
        ({"highway": "primary"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link"}, False),
        ({"highway": "trunk"}, False),
        ({"highway": "trunk", "sidewalk": "both"}, True),
        ({"highway": "trunk", "foot": "yes"}, True),
        ({"highway": "trunk", "sidewalk": "separate"}, False),
        ({"highway": "footway", "foot": "no"}, False),
        ({"highway": "service", "access": "private"}, True),  # a compound road
        ({"highway": "service", "access": "private", "foot": "private"}, False),
        ({"highway": "service", "access": "no"}, False),
        ({"highway": "residential", "access": "private"}, False),
        ({"highway": "footway", "foot": "private"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "cycleway", "foot": "yes"}, True),
        ({"highway": "cycleway", "foot": "designated"}, True),
        ({"highway": "cycleway", "foot": "no"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "service", "access": "no", "foot": "designated"}, True),
        ({"highway": "proposed"}, False),
        ({"highway": "construction"}, False),
    ],
)
def test_walkable_rules(tags, walkable, standards):
    assert is_walkable(tags, standards.network) is walkable


def test_network_sanity_on_real_extracts(real):
    edges = real.network
    assert len(edges) > 1000
    assert not edges["highway"].isin(["motorway", "motorway_link"]).any()
    assert (edges["length_m"] > 0).all()
    pairs = np.sort(edges[["u", "v"]].to_numpy(), axis=1)
    assert len(np.unique(pairs, axis=0)) == len(pairs), "parallel edges must be merged"


def test_lengths_match_geodesic_within_half_percent(chengdu):
    edges = chengdu.network
    geodesic = edges.to_crs(edges.estimate_utm_crs()).length  # same segments, recomputed
    np.testing.assert_allclose(edges["length_m"], geodesic, rtol=1e-6, atol=1e-6)
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    true_len = np.array([geod.geometry_length(g) for g in edges.geometry.values[:500]])
    np.testing.assert_allclose(edges["length_m"].to_numpy()[:500], true_len, rtol=5e-3)


def test_disconnected_pieces_are_reported_not_dropped(chengdu):
    edges = chengdu.network
    g = nx.Graph()
    g.add_edges_from(edges[["u", "v"]].to_numpy().tolist())
    pieces = nx.number_connected_components(g)
    assert chengdu.summary["network"]["pieces"] == pieces
    assert (~edges["in_main"]).sum() > 0
    assert any("与主网不相连" in w for w in chengdu.warnings)  # Chinese by default


def test_network_is_clipped_to_study_area(shenzhen):
    """Overpass exports hold whole ways that run far past the box; they are cut."""
    minx, miny, maxx, maxy = shenzhen.summary["study_area_wgs84_bounds"]
    nodes = shenzhen.network.get_coordinates()
    margin = 0.02  # a segment leaving the area keeps its outer end
    assert nodes["x"].between(minx - margin, maxx + margin).all()
    assert nodes["y"].between(miny - margin, maxy + margin).all()


def test_chengdu_network_size_is_unchanged(standards):
    extract = read_extract(need(CHENGDU), {"name", "landuse"})
    network = network_from_extract(extract, standards.network)
    # 8026 / 9365 before compound roads (service + access=private), cycleways with foot=yes
    # and foot=private counted as they are walked; 8028 / 9367 with them; 8026 / 9365 again
    # now that compound roads count only inside residential land (the one here is not)
    assert (network.n_nodes, network.n_edges) == (8026, 9365)
    lonlat = extract.ways.node_lonlat
    points = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs="EPSG:4326")
    assert network.crs == points.estimate_utm_crs()


@pytest.mark.parametrize("scale", [1, 10**10])
def test_cell_key_groups_and_orders_like_unique_rows(scale):
    rng = np.random.default_rng(7)
    cells = rng.integers(-50, 50, size=(5000, 2)) * np.array([scale, 1])
    _, first, inverse = np.unique(cells, axis=0, return_index=True, return_inverse=True)
    _, first_key, inverse_key = np.unique(_cell_key(cells), return_index=True, return_inverse=True)
    np.testing.assert_array_equal(first, first_key)
    np.testing.assert_array_equal(inverse.ravel(), inverse_key)


def test_utm_zone_as_geopandas_estimates_it():
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(-180, 180, 40), [-180, -174, 0, 6, 104.0, 179.999]])
    lat = np.concatenate([rng.uniform(-79.9, 83.9, 40), [10, 0, -30, 1e-9, 30.7, -45]])
    for x, y in zip(lon, lat, strict=True):
        box = np.array([[x - 0.01, y - 0.01], [x + 0.01, y + 0.01]])
        points = gpd.GeoSeries(gpd.points_from_xy(box[:, 0], box[:, 1]), crs="EPSG:4326")
        assert _utm_crs(box) == points.estimate_utm_crs(), (x, y)


def test_parallel_snapping_equals_one_query(standards):
    """Snapping a large batch in threads gives exactly the single-call nearest edges."""
    import shapely

    from circles.access.attach import PARALLEL_POINTS, _nearest, network_streets

    net = network_from_extract(read_extract(need(CHENGDU), set()), standards.network)
    rng = np.random.default_rng(3)
    xy = net.node_xy[rng.choice(net.n_nodes, PARALLEL_POINTS + 5000)]
    points = shapely.points(xy + rng.normal(0, 30, xy.shape))
    tree = network_streets(net).tree
    one = tree.query_nearest(points, all_matches=False)[1]
    np.testing.assert_array_equal(_nearest(tree, points), one)


def _toy_osm(path, land_tags):
    """A public street with a private service road inside a square tagged ``land_tags``."""
    nodes = {1: (104.000, 30.000), 2: (104.004, 30.000), 3: (104.002, 30.000), 4: (104.002, 30.002)}
    nodes |= {
        10: (104.001, 30.0002),
        11: (104.003, 30.0002),
        12: (104.003, 30.003),
        13: (104.001, 30.003),
    }
    bounds = '<bounds minlat="29.999" minlon="103.999" maxlat="30.004" maxlon="104.005"/>'
    xml = ['<?xml version="1.0"?>', '<osm version="0.6">', bounds]
    xml += [
        f'<node id="{i}" lat="{lat}" lon="{lon}" version="1"/>' for i, (lon, lat) in nodes.items()
    ]
    xml += [
        '<way id="100" version="1"><nd ref="1"/><nd ref="3"/><nd ref="2"/>'
        '<tag k="highway" v="residential"/></way>',
        '<way id="101" version="1"><nd ref="3"/><nd ref="4"/>'
        '<tag k="highway" v="service"/><tag k="access" v="private"/></way>',
        '<way id="102" version="1"><nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/>'
        '<nd ref="10"/>'
        + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in land_tags.items())
        + "</way>",
        "</osm>",
    ]
    path.write_text("\n".join(xml))
    return path


@pytest.mark.parametrize(
    ("land", "walked"),
    [({"landuse": "residential"}, True), ({"landuse": "industrial"}, False), ({}, False)],
)
def test_compound_roads_are_walked_only_inside_residential_land(tmp_path, standards, land, walked):
    osm = _toy_osm(tmp_path / "toy.osm", land | {"name": "x"})
    extract = read_extract(osm, {"name", "landuse"})
    network = network_from_extract(extract, standards.network)
    assert (101 in set(network.edge_way_id)) is walked
    assert 100 in set(network.edge_way_id)
