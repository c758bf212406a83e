"""Walking network: which ways are walkable, lengths, clipping and disconnected pieces."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from circles.network import is_walkable


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
        ({"highway": "service", "access": "private"}, False),
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
    assert any("disconnected" in w for w in chengdu.warnings)


def test_network_is_clipped_to_study_area(shenzhen):
    """Overpass exports hold whole ways that run far past the box; they are cut."""
    minx, miny, maxx, maxy = shenzhen.summary["study_area_wgs84_bounds"]
    nodes = shenzhen.network.get_coordinates()
    margin = 0.02  # a segment leaving the area keeps its outer end
    assert nodes["x"].between(minx - margin, maxx + margin).all()
    assert nodes["y"].between(miny - margin, maxy + margin).all()
