"""Maps: HTML opened in headless Chromium with the network off; print-ready figures."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import prcoords
import pytest
import shapely
from click.testing import CliRunner

from circles import analyze
from circles.cli import main
from circles.errors import InputError
from circles.messages import language
from circles.planning.saved import load_analysis
from circles.present.leaflet import for_display
from circles.present.maps import (
    _beyond,
    _community_keys,
    _legend,
    _read_district,
    _worst_rows,
    gap_cells,
    hex_cells,
    write_district_maps,
)
from circles.present.style import share_classes
from circles.present.tables import write_outputs
from circles.rules.measures import rule_weights
from conftest import CHENGDU, CHROMEDRIVER, CHROMIUM, OSM_DIR, headless_chromium, need

SAMPLES = OSM_DIR.parent / "planner-samples"
NO_BROWSER = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian chromium and chromium-driver are not installed (.ci/run installs them)",
)
TILE_HOSTS = {"osm": "tile.openstreetmap.org", "amap": "is.autonavi.com", "none": None}
TILE_HOSTS["tianditu"] = "tianditu.gov.cn"

# what a page shows, read from Leaflet: features drawn per className, fill colours of the
# communities, a facility's position, the map's bounds
READ_JS = """
const maps = Object.keys(window).filter(k => /^map_[0-9a-f]+$/.test(k)).map(k => window[k]);
const map = maps[0], found = {count: {}, fills: [], facility: null};
map.eachLayer(l => {
    if (!l.feature && l.getLatLngs && l.options.className) {  // one polyline of many lines
        const kind = l.options.className;
        const n = kind === "circles-network" ? l.getLatLngs().length : 1;
        found.count[kind] = (found.count[kind] || 0) + n;
    }
    if (!l.feature || !l.options) return;
    const kind = l.options.className || "none";
    found.count[kind] = (found.count[kind] || 0) + 1;
    if (kind === "circles-community") found.fills.push(l.options.fillColor);
    if (kind === "circles-facility" && !found.facility) {
        found.facility = [l.getLatLng().lat, l.getLatLng().lng, l.feature.properties.name];
    }
});
const b = map.getBounds();
found.bounds = [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()];
found.maps = maps.length;
return found;
"""


@pytest.fixture(scope="module")
def saved(chengdu, tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    write_outputs(chengdu, folder)
    return load_analysis(folder)


@pytest.fixture(scope="module")
def planner(tianjin, tmp_path_factory):
    """A planner-style run: official communities with 常住人口 and the 60+, and the meal
    points' list in Amap (GCJ-02) coordinates, over the Chengdu extract (under Tianjin's
    standards, whose canteen rule counts residents aged 60+)."""
    if not (SAMPLES / "社区.geojson").exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    result = analyze(
        need(CHENGDU),
        standards=tianjin,
        communities=SAMPLES / "社区.geojson",
        facilities=[f"{SAMPLES / '老年助餐点.xlsx'}::category=elderly_meal,crs=gcj02"],
    )
    folder = tmp_path_factory.mktemp("planner")
    write_outputs(result, folder)
    return load_analysis(folder)


def _open(page: Path, profile: Path, shot: Path | None = None) -> tuple[dict, list[dict]]:
    """Open a page in headless Chromium with the network off; what it shows, and every
    request that failed (each is logged with its URL)."""
    driver = headless_chromium(profile, logs=True)
    try:
        driver.get(page.as_uri())
        found = {}
        for _ in range(100):
            found = driver.execute_script(READ_JS)
            if found["count"]:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # tiles are requested after the first render
        found = driver.execute_script(READ_JS)
        if shot:
            driver.save_screenshot(str(shot))
            keep = os.environ.get("CIRCLES_SCREENSHOT_DIR")
            if keep:
                shutil.copy(shot, Path(keep) / shot.name)
        logs = driver.get_log("browser")
    finally:
        driver.quit()
    failed = [e for e in logs if e["level"] == "SEVERE" and e.get("source") == "network"]
    errors = [e for e in logs if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert errors == [], errors
    return found, failed


def test_share_classes_hold_the_target():
    assert [label for _, label in share_classes(1.0)] == [
        "< 50%",
        "50% – 70%",
        "70% – 90%",
        "90% – < 100%",
        "≥ 100%",
    ]
    assert [b for b, _ in share_classes(0.8)] == [0.5, 0.7, 0.8, np.inf]
    assert [label for _, label in share_classes(0.5)] == ["< 50%", "≥ 50%"]


def test_amap_shifts_the_known_point_into_gcj02():
    point = shapely.points([116.42079], [39.90105])  # WGS-84 lon, lat
    shifted = for_display(point, "amap")[0]
    assert abs(shifted.x - 116.42703) < 1.5e-5 and abs(shifted.y - 39.90245) < 1.5e-5
    assert for_display(point, "osm")[0].equals(point[0])


def test_hex_cells_hold_their_points():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 2000, (5000, 2))
    ids, centres = hex_cells(xy, 100.0)
    assert (np.hypot(*(xy - centres).T) <= 100.0 + 1e-9).all()  # within the circumradius
    other = centres + np.array([np.sqrt(3) * 100, 0])  # a neighbour's centre is never nearer
    assert (np.hypot(*(xy - centres).T) <= np.hypot(*(xy - other).T) + 1e-9).all()
    assert len(np.unique(ids, axis=0)) == len(np.unique(centres.round(6), axis=0))


def test_gap_cells_sum_the_residents_the_rule_counts_beyond_reach(planner):
    district = _read_district(planner, "osm", "zh")
    rule = planner.standards.main_access_rule("elderly_meal")
    cells = gap_cells(district, rule)
    weights, counted, _ = rule_weights(rule, district.demand)
    assert counted == "elderly"
    dist = district.demand["dist_m.elderly_meal"].to_numpy(float)
    beyond = weights[~(dist <= planner.standards.threshold_m(rule))].sum()
    assert cells["people"].sum() == pytest.approx(beyond, rel=1e-3)
    assert 100 < len(cells) < 3000  # cells, not every demand point


def test_communities_beyond_reach_without_data_or_rule_have_their_own_style(planner):
    district = _read_district(planner, "none", "zh")
    std = planner.standards

    def keys(category: str) -> set[str]:
        return set(_community_keys(district, category, std.main_access_rule(category)))

    assert keys("elderly_daycare") == {"no_data"}  # no facility known: no data, not a gap
    assert keys("nursing_home") == {"not_evaluated"}  # no walking-access rule
    meal = keys("elderly_meal")
    assert "no_data" not in meal and len(meal) >= 3  # graded: several classes of the share
    beyond = _beyond(district, "kindergarten")
    assert beyond.any() and not beyond.all()
    assert set(
        _community_keys(district, "kindergarten", std.main_access_rule("kindergarten"))[beyond]
    ) == {"beyond"}


def test_offline_html_is_self_contained(saved, tmp_path):
    paths, _ = write_district_maps(saved, tmp_path, category="kindergarten", tiles="none")
    text = paths[0].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=[\"']https?:", text)
    assert "tile.openstreetmap" not in text
    assert "OpenStreetMap contributors" in text
    for shown in (
        "幼儿园",
        "数据依据：",
        "步行可达比例",
        "数据日期：",
    ):  # text, or in a JSON string
        assert shown in text or json.dumps(shown)[1:-1] in text, shown


def test_all_categories_offline_map_of_chengdu_is_small_with_one_layer_per_category(
    saved, tmp_path
):
    paths, counts = write_district_maps(saved, tmp_path, tiles="none")
    html = paths[0]
    assert html.stat().st_size < 10e6
    assert (tmp_path / "index.html").read_text(encoding="utf-8").count("<a href=") == 1
    n = len(saved.layer("communities"))
    n_cat = len(saved.standards.category_ids)
    assert n > 100
    assert counts[html.name]["communities"] == n  # drawn once, restyled per category
    text = html.read_text(encoding="utf-8")
    assert text.count("L.control.layers(") == 1
    assert text.count('on("baselayerchange"') == 2  # the communities' style and the legend
    assert counts[html.name]["service_areas"] > n_cat
    judged = {r.category for r in saved.standards.access_rules()}
    no_data = [c["category_id"] for c in saved.summary["categories"] if c["data"] == "no_data"]
    no_data = [c for c in no_data if c in judged]
    assert no_data  # e.g. no day-care centre in OSM: no gap is drawn for them
    one, one_counts = write_district_maps(saved, tmp_path / "one", category=no_data[0])
    assert one_counts[one[0].name]["gap_cells"] == 0
    assert counts[html.name]["labels"] > 50 and counts[html.name]["network"] > 1000


@pytest.mark.parametrize("tiles", ["osm", "amap", "tianditu"])
def test_online_maps_embed_leaflet_and_load_only_tiles(saved, tmp_path, monkeypatch, tiles):
    monkeypatch.setenv("TIANDITU_KEY", "test-key")
    paths, _ = write_district_maps(saved, tmp_path, category="pharmacy", tiles=tiles, lang="en")
    text = paths[0].read_text(encoding="utf-8")
    assert TILE_HOSTS[tiles] in text
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?:", text)
    assert "share within reach (all residents)" in text  # the legend, in English


def test_tianditu_without_a_key_says_how_to_get_one(saved, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    run = CliRunner().invoke(main, ["map", "--analysis", str(saved.folder), "--tiles", "tianditu"])
    assert run.exit_code == 2
    assert "TIANDITU_KEY" in run.output and "console.tianditu.gov.cn" in run.output
    assert "需要在环境变量 TIANDITU_KEY 中提供天地图密钥" in run.output


def test_unknown_district_and_category(saved, tmp_path):
    with pytest.raises(InputError, match="未知区县“西青区”；本次分析包含："):
        write_district_maps(saved, tmp_path, district="西青区")
    with pytest.raises(InputError, match="未知类别“kindergarden”；应为 all 或以下之一："):
        write_district_maps(saved, tmp_path, category="kindergarden")
    with language("en"), pytest.raises(InputError, match="unknown district '西青区'"):
        write_district_maps(saved, tmp_path, district="西青区")


@NO_BROWSER
@pytest.mark.parametrize("tiles", ["none", "osm", "amap", "tianditu"])
def test_maps_render_with_the_network_off_and_request_nothing_but_tiles(
    planner, tmp_path, monkeypatch, tiles
):
    monkeypatch.setenv("TIANDITU_KEY", "test-key")
    out = tmp_path / "maps"
    paths, counts = write_district_maps(planner, out, category="elderly_meal", tiles=tiles)
    drawn = counts[paths[0].name]
    found, failed = _open(paths[0], tmp_path / "profile", tmp_path / f"graded-{tiles}.png")
    assert found["maps"] == 1
    assert found["count"]["circles-community"] == drawn["communities"]
    assert drawn["communities"] == len(planner.layer("communities")) > 30
    facilities = planner.layer("facilities")
    meal = facilities[facilities["category_id"] == "elderly_meal"]
    assert found["count"]["circles-facility"] == drawn["facilities"] == len(meal) > 10
    assert found["count"]["circles-gap"] == drawn["gap_cells"] > 50
    assert found["count"]["circles-service-area"] == drawn["service_areas"] == 3
    assert found["count"].get("circles-network", 0) == drawn["network"]
    external = [e["message"] for e in failed if TILE_HOSTS[tiles] not in e["message"]]
    assert external == []  # every request that left the page was for a tile
    assert bool(failed) == (tiles != "none")  # the check sees requests: tiles were asked for
    assert len(set(found["fills"])) >= 3  # graded: at least 3 fill classes
    lat, lon, name = found["facility"]
    if tiles == "amap":  # drawn in GCJ-02: the WGS-84 point shifted as prcoords shifts it
        row = meal[meal["name"] == name].geometry.iloc[0]
        gcj = prcoords.wgs_gcj(prcoords.Coords(row.y, row.x))
        assert abs(lat - gcj.lat) < 2e-5 and abs(lon - gcj.lon) < 2e-5
        assert abs(lon - row.x) > 2e-3  # the shift is some 240 m in Chengdu


@NO_BROWSER
def test_siting_maps_render_offline_with_a_legend_and_a_sensible_zoom(planner, tmp_path):
    folder = str(planner.folder)
    one = ["score", "--analysis", folder, "--category", "elderly_meal", "--at", "104.08,30.69"]
    run = CliRunner().invoke(main, [*one, "--tiles", "none", "--out", str(tmp_path / "s")])
    assert run.exit_code == 0, run.output
    page = tmp_path / "s" / "sites_map.html"
    found, failed = _open(page, tmp_path / "profile", tmp_path / "sites-none.png")
    assert failed == []
    assert found["count"]["circles-site"] == 1
    south, west, north, east = found["bounds"]
    assert north - south > 0.01 and east - west > 0.01  # not zoomed to one site's 20 m
    assert north - south < 0.2
    text = page.read_text(encoding="utf-8")
    assert "仍未覆盖居民点" in text or "新覆盖居民点" in text
    assert "≤ 15 分钟" in text


@NO_BROWSER
def test_all_categories_offline_map_renders_in_headless_chromium(saved, tmp_path):
    paths, counts = write_district_maps(saved, tmp_path / "m", tiles="none")
    started = time.perf_counter()
    found, failed = _open(paths[0], tmp_path / "profile", tmp_path / "offline-map.png")
    assert failed == []
    n = len(saved.layer("communities"))
    assert found["count"]["circles-community"] == n  # only the shown category's layer
    assert found["count"]["circles-network"] == counts[paths[0].name]["network"]
    print(
        f"offline map {paths[0].stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s"
    )


def test_print_figures_have_chinese_text_without_missing_glyphs(saved, tmp_path):
    from circles.present.figures import cjk_font, write_figures

    if cjk_font() is None:
        pytest.skip("no CJK font installed (.ci/run installs fonts-noto-cjk)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        paths = write_figures(saved, tmp_path, "kindergarten", "zh")
    png, pdf = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    import matplotlib.image as mpimg

    height, width = mpimg.imread(png).shape[:2]
    assert (width, height) == (3507, 2481)  # A4 landscape at 300 dpi


def test_print_figure_of_a_planner_run_is_graded_not_one_colour(planner, tmp_path):
    """The A4 figure uses the maps' classes: the planner run's canteen figure shows at least
    three of the class colours, each over a real part of the page."""
    from circles.present.figures import cjk_font, write_figures
    from circles.present.style import class_colours

    if cjk_font() is None:
        pytest.skip("no CJK font installed (.ci/run installs fonts-noto-cjk)")
    png, _ = write_figures(planner, tmp_path, "elderly_meal", "zh")
    import matplotlib.image as mpimg

    pixels = (mpimg.imread(png)[..., :3] * 255).round().astype(int)
    pixels = pixels.reshape(-1, 3)
    shown = []
    for colour in class_colours(4):
        rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        if (np.abs(pixels - rgb).sum(axis=1) <= 3).sum() > 20_000:  # more than a legend swatch
            shown.append(colour)
    assert len(shown) >= 3, shown


def test_offline_map_names_the_streets_given_as_boundaries(tianjin, tmp_path):
    """With 街道 boundaries, a map without tiles outlines and names each 街道 (and the
    communities) so that it reads without a basemap."""
    if not (SAMPLES / "街道.shp").exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    result = analyze(
        need(CHENGDU),
        standards=tianjin,
        communities=SAMPLES / "社区.geojson",
        boundaries=SAMPLES / "街道.shp",
    )
    write_outputs(result, tmp_path / "a")
    saved = load_analysis(tmp_path / "a")
    paths, _ = write_district_maps(saved, tmp_path / "m", category="kindergarten", tiles="none")
    streets = saved.layer("streets")["name"].dropna().tolist()
    assert len(streets) >= 5
    found, failed = _open(paths[0], tmp_path / "profile")
    assert failed == [] and found["count"].get("circles-street", 0) >= 1
    driver = headless_chromium(tmp_path / "profile2")
    try:
        driver.get(paths[0].as_uri())
        time.sleep(1.0)
        shown = driver.execute_script(
            "return [...document.querySelectorAll('.circles-street-label')]"
            ".map(e => e.textContent);"
        )
    finally:
        driver.quit()
    assert sorted(shown) == sorted(streets)
    # one map and one A4 figure per 街道, each holding only that street's communities
    args = ["map", "--analysis", str(tmp_path / "a"), "--level", "street", "--tiles", "none"]
    args += ["--category", "kindergarten", "--figure", "kindergarten", "--out", str(tmp_path / "s")]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    maps = sorted((tmp_path / "s").glob("street-*.html"))
    figures = sorted((tmp_path / "s").glob("street-*-kindergarten.png"))
    assert len(maps) == len(figures) == len(saved.parts("street")) == len(streets)
    assert all(any(name in p.name for name in streets) for p in maps)
    index = (tmp_path / "s" / "index.html").read_text(encoding="utf-8")
    assert all(name in index for name in streets)
    # by default the per-street maps go beside the district's, which stay
    base = ["map", "--analysis", str(tmp_path / "a"), "--tiles", "none", "--category"]
    for extra in ([], ["--level", "street"]):
        assert CliRunner().invoke(main, [*base, "kindergarten", *extra]).exit_code == 0
    district = sorted(p.name for p in (tmp_path / "a" / "maps").glob("*.html"))
    assert len(district) == 2 and "index.html" in district  # the district's map and index
    assert len(list((tmp_path / "a" / "maps" / "streets").glob("street-*.html"))) == len(streets)
    parts = saved.parts("street")
    one = _read_district(saved, "none", "zh", parts[0])
    inner = one.communities.to_crs(saved.crs).representative_point().values
    assert 0 < len(one.communities) < len(saved.layer("communities"))
    assert shapely.covers(parts[0].area_m, inner).all()


def test_street_maps_need_street_boundaries(saved, tmp_path):
    args = ["map", "--analysis", str(saved.folder), "--level", "street", "--out", str(tmp_path)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 2 and "--boundaries" in run.output


def test_legend_lists_the_communities_with_most_residents_beyond_reach(planner):
    """The side panel of a category: its five worst communities, as the 排名 sheet ranks them."""
    from circles.present.rankings import rankings

    district = _read_district(planner, "none", "zh")
    rule = planner.standards.main_access_rule("elderly_meal")
    rows = _worst_rows(district, rule)
    ranked = rankings(planner, "elderly_meal").head(5)
    assert rows[0].startswith("<div><b>未覆盖人数最多")
    names = [r.removeprefix("<div>").split("：")[0] for r in rows[1:]]
    assert names == [html.escape(n) for n in ranked["unit_name"]]
    assert all(re.fullmatch(r"<div>.+：[\d,]+ 人（\d+%）</div>", r) for r in rows[1:])
    english = _worst_rows(_read_district(planner, "none", "en"), rule)
    assert english[1].startswith(f"<div>{names[0]}: ") and english[1].endswith("%)</div>")


def test_legend_names_who_the_rule_counted(planner):
    """The planner's communities give residents aged 60+ but no children: the elderly rule's
    shares are of the elderly, the kindergarten rule's of all residents (as rule_weights)."""
    district = _read_district(planner, "none", "zh")
    none = gpd.GeoDataFrame(geometry=[], crs=4326)
    elderly = _legend(district, "elderly_meal", "", none)
    assert "步行可达比例（60岁以上人口）" in elderly
    kindergarten = _legend(district, "kindergarten", "", none)
    assert "步行可达比例（常住人口）" in kindergarten and "儿童" not in kindergarten
