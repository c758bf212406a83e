"""Walks across a block: a home and a facility (or proposed site) in one block are linked by
their straight line when it crosses no street, as connectors cross the block's open ground."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from circles import analyze
from circles.access.attach import network_streets
from circles.access.graph import routing_graph
from circles.access.search import nearest_facility, reach_from_site, site_walks
from circles.model.network import Network
from circles.planning.recommend import auto_candidates, coverage_matrix
from circles.planning.saved import load_analysis
from circles.planning.scenario import Action, load_base, run_scenario
from circles.planning.score import place_site, reach_site, score_site
from circles.present.tables import write_outputs
from conftest import CHENGDU, need, rectangle_block

EXTRA_M, MAX_STREETS, ACROSS_M = 50.0, 4, 300.0  # configs/national.yaml


def square_block() -> Network:
    """One block 400 m wide: four streets (ways) round the square (0, 0)-(400, 400)."""
    return rectangle_block(400.0, 400.0)


def walks(homes_xy, shops_xy, across_m: float = ACROSS_M, rows=None):
    """Every home's walk to the shops ``rows`` (default all), joined as the analysis joins
    them; and the graph."""
    net = square_block()
    streets = network_streets(net)
    homes, shops = shapely.points(homes_xy), shapely.points(shops_xy)
    graph = routing_graph(
        net,
        streets.attach_near(homes, EXTRA_M, MAX_STREETS),
        streets.attach_near(shops, EXTRA_M, MAX_STREETS),
        np.asarray(homes_xy, float),
        streets.across(homes, shops, across_m),
    )
    rows = np.arange(len(shops_xy)) if rows is None else np.asarray(rows)
    return nearest_facility(graph, rows, 10_000), graph


def test_a_home_20_m_from_a_kindergarten_in_its_block_walks_20_m_not_round_the_block():
    """Home and kindergarten in the middle of the block, nearest to opposite streets: without
    the link the walk goes out to a street and back in (the home's nearest, the north street
    190 m away, which the kindergarten also joins, 210 m away: 400 m); with it, straight
    across."""
    home, kindergarten = [[200.0, 210.0]], [[200.0, 190.0]]
    off, _ = walks(home, kindergarten, across_m=0.0)
    on, graph = walks(home, kindergarten)
    np.testing.assert_allclose(off.point_dist_m, [400.0])
    np.testing.assert_allclose(on.point_dist_m, [20.0])
    # another one by the north street (195 m by the streets): the linked one is the nearest
    two = [[200.0, 395.0], *kindergarten]
    assert walks(home, two, across_m=0.0)[0].nearest_facility.tolist() == [0]
    assert walks(home, two)[0].nearest_facility.tolist() == [1]
    first = graph.point_node[graph.point_starts]
    assert (first < graph.facility_node[0]).all(), "a home's first join is a street"


def test_pairs_on_both_sides_of_a_street_or_through_a_corner_are_not_linked():
    streets = network_streets(square_block())
    homes = shapely.points([[200.0, -10.0], [-5.0, -5.0], [200.0, 0.0], [100.0, 100.0]])
    shops = shapely.points([[200.0, 10.0], [5.0, 5.0]])
    i, j, metres = streets.across(homes, shops, ACROSS_M)
    # across the south street: no; through the corner node: no; from on the street (it
    # touches the street at its end) and from inside the block: yes
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(2, 0), (2, 1), (3, 0), (3, 1)]
    np.testing.assert_allclose(metres, [10.0, np.hypot(195, 5), np.hypot(100, 90), 95 * 2**0.5])
    assert len(streets.across(homes, shops, 9.0)[0]) == 0
    area = np.array([shapely.box(150.0, 150.0, 250.0, 250.0)])
    i, j, metres = streets.across(shapely.points([[200.0, 200.0], [200.0, 100.0]]), area, 60)
    assert i.tolist() == [0, 1] and metres.tolist() == [0.0, 50.0]  # inside: 0 m


def test_a_link_serves_only_its_facility_s_category():
    """A home linked to shop 0 across the block, searched for shop 1 only (another
    category, 100 m east of shop 0 in the same block but beyond the link's reach): its walk
    is along the streets, not through shop 0."""
    home, shops = [[200.0, 210.0]], [[200.0, 190.0], [300.0, 190.0]]
    only_second, graph = walks(home, shops, across_m=30.0, rows=[1])
    streets_only, _ = walks(home, shops, across_m=0.0, rows=[1])
    np.testing.assert_allclose(only_second.point_dist_m, streets_only.point_dist_m)
    assert only_second.nearest_facility.tolist() == [1]
    assert graph.point_node.tolist().count(graph.facility_node[0]) == 1  # the one link


def test_a_site_in_a_block_reaches_its_homes_as_a_re_analysis_with_it_would():
    """Walks from a proposed site (``reach_from_site`` + ``site_walks``) equal the walks to
    it as a facility of the analysis, across the block included."""
    homes = [[200.0, 210.0], [120.0, 330.0], [390.0, 20.0], [200.0, -15.0], [30.0, 250.0]]
    site = [210.0, 180.0]
    again, _ = walks(homes, [[50.0, 50.0], site], rows=[1])
    _, graph = walks(homes, [[50.0, 50.0]])
    reach = reach_from_site(graph, np.array(site), 10_000, EXTRA_M, MAX_STREETS, ACROSS_M)
    np.testing.assert_allclose(site_walks(graph, reach, 10_000), again.point_dist_m, atol=2e-3)
    assert len(reach.across_points) == 4  # all but the home south of the south street
    no_links = reach_from_site(graph, np.array(site), 10_000, EXTRA_M, MAX_STREETS, 0.0)
    assert site_walks(graph, no_links)[0] > 300.0  # out to a street and back in


@pytest.fixture(scope="module")
def saved(chengdu, tmp_path_factory):
    folder = tmp_path_factory.mktemp("across")
    write_outputs(chengdu, folder)
    return load_analysis(folder)


def deep_sites(saved, n: int) -> list[tuple[float, float]]:
    """Sites 5 m east of homes deep in a block (no street within 80 m) that walk beyond
    300 m to a kindergarten (WGS-84)."""
    state = saved.state
    deep = (state.demand["connector_m"] > 80) & (state.point_dist("kindergarten") > 300)
    xy = state.graph.point_xy[np.flatnonzero(deep)[:: max(1, deep.sum() // n)][:n]] + [5, 0]
    lonlat = gpd.GeoSeries(shapely.points(xy), crs=saved.crs).to_crs(4326).get_coordinates()
    return list(lonlat.itertuples(index=False, name=None))


def kindergarten_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The 300 m kindergarten rule's value per unit."""
    rows = results[results["rule_id"] == "kindergarten_300m"]
    return rows.set_index(["unit_level", "unit_id"])


def test_a_site_in_a_block_scores_and_plans_as_a_re_analysis_with_it(saved, chengdu, standards):
    """On central Chengdu: sites deep in a block reach homes across it; the score and a
    scenario adding the site equal the analysis re-run with it."""
    base = load_base(saved)
    for lon, lat in deep_sites(saved, 2):
        site = place_site(saved, "kindergarten", lon, lat)
        assert len(site.across_points) > 0
        score = score_site(saved, "kindergarten", lon, lat, "kindergarten_300m")["rules"][0]
        added = gpd.GeoDataFrame(
            {"category_id": ["kindergarten"], "name": ["拟建幼儿园"]},
            geometry=[shapely.Point(lon, lat)],
            crs=4326,
        )
        again = analyze(need(CHENGDU), standards=standards, facilities=[added])
        before, after = (
            d.demand_points["dist_m.kindergarten"].fillna(np.inf).to_numpy()
            for d in (chengdu, again)
        )
        newly = (before > 300) & (after <= 300)
        assert newly.sum() > 0
        assert score["newly_covered_points"] == newly.sum()
        people = again.demand_points["population"].to_numpy()
        assert score["newly_covered_population"] == pytest.approx(people[newly].sum(), abs=0.051)
        want = kindergarten_rows(again.results)
        district = want.xs("district", level="unit_level")["value"].iloc[0]
        assert score["share_after"] == pytest.approx(district, abs=1e-6)
        table = run_scenario(base, [Action("add", "kindergarten", lon, lat)]).table
        got = kindergarten_rows(table)
        common = got.index.intersection(want.index)
        assert len(common) > 10
        np.testing.assert_allclose(
            pd.to_numeric(got.loc[common, "value_after"]).to_numpy(float),
            pd.to_numeric(want.loc[common, "value"]).to_numpy(float),
            atol=1e-6,
        )


def test_auto_candidates_cover_the_homes_across_their_blocks(saved):
    """A candidate street node covers the homes a site there reaches across a block, and no
    home such a site would not reach."""
    graph, threshold = saved.state.graph, 300.0
    points = np.arange(graph.n_points)
    nodes = auto_candidates(saved)[::25]
    cover = coverage_matrix(saved, nodes, points, threshold)
    gained = 0
    for row, node in enumerate(nodes):
        site = reach_site(saved, graph.node_xy[node], threshold)
        covered = set(cover.indices[cover.indptr[row] : cover.indptr[row + 1]].tolist())
        across = site.across_points[site.across_m <= threshold]
        assert set(across.tolist()) <= covered
        assert covered <= set(np.flatnonzero(site_walks(graph, site) <= threshold).tolist())
        streets_only = graph.point_dist(site.node_dist_m) <= threshold
        gained += int((~streets_only[across]).sum())
    assert gained > 0, "some home is covered only across its block"
