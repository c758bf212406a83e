"""Maps: offline HTML opened in headless Chromium with the network off; print-ready figures."""

from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from pathlib import Path

import pytest

from circles.errors import InputError
from circles.planning.saved import load_analysis
from circles.present.maps import write_district_maps
from circles.present.tables import write_outputs
from conftest import CHROMEDRIVER, CHROMIUM, headless_chromium


@pytest.fixture(scope="module")
def saved(chengdu, tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    write_outputs(chengdu, folder)
    return load_analysis(folder)


@pytest.fixture(scope="module")
def offline_map(saved, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    paths, counts = write_district_maps(saved, out, category="kindergarten", offline=True)
    return paths[0], counts[paths[0].name]


def test_offline_html_is_self_contained(offline_map):
    path, _ = offline_map
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=[\"']https?:", text)
    assert "tile.openstreetmap" not in text
    assert "OpenStreetMap contributors" in text
    assert "幼儿园" in text


def test_all_categories_offline_map_of_chengdu_is_under_15_mb(saved, tmp_path):
    paths, counts = write_district_maps(saved, tmp_path, offline=True)
    html = paths[0]
    assert html.stat().st_size < 15e6
    assert (tmp_path / "index.html").read_text(encoding="utf-8").count("<a href=") == 1
    assert counts[html.name]["communities"] == 16 * 206  # 186 residential areas, 20 home units


def test_online_map_uses_tiles(saved, tmp_path):
    paths, _ = write_district_maps(saved, tmp_path, category="pharmacy", lang="en")
    text = paths[0].read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in text
    assert "Communities" in text


def test_unknown_district_and_category(saved, tmp_path):
    with pytest.raises(InputError, match="unknown district"):
        write_district_maps(saved, tmp_path, district="西青区")
    with pytest.raises(InputError, match="unknown category"):
        write_district_maps(saved, tmp_path, category="kindergarden")


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian chromium and chromium-driver are not installed (.ci/run installs them)",
)
def test_offline_map_renders_in_headless_chromium_with_network_off(offline_map, tmp_path):
    path, counts = offline_map
    driver = headless_chromium(tmp_path / "profile", logs=True)
    try:
        started = time.perf_counter()
        driver.get(path.as_uri())
        count_js = """return {
            container: document.querySelectorAll('.leaflet-container').length,
            communities: document.querySelectorAll('path.circles-community').length,
            service_areas: document.querySelectorAll('path.circles-service-area').length,
            facilities: document.querySelectorAll('.circles-facility').length,
            demand_points: document.querySelectorAll('path.circles-demand').length,
            network: document.querySelectorAll('path.circles-network').length};"""
        found = {}
        for _ in range(100):
            found = driver.execute_script(count_js)
            if found["demand_points"] >= counts["demand_points"]:
                break
            time.sleep(0.1)
        render_s = time.perf_counter() - started
        shot = tmp_path / "map.png"
        driver.save_screenshot(str(shot))
        logs = driver.get_log("browser")
    finally:
        driver.quit()
    assert found["container"] == 1
    for layer in ("communities", "service_areas", "facilities", "demand_points", "network"):
        assert found[layer] == counts[layer], (layer, found, counts)
    assert counts["communities"] == 206
    assert counts["service_areas"] == 3
    errors = [entry for entry in logs if entry["level"] == "SEVERE"]
    assert errors == []
    assert shot.stat().st_size > 50_000
    keep = os.environ.get("CIRCLES_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "offline-map.png")
    print(f"offline map {path.stat().st_size / 1e6:.1f} MB rendered in {render_s:.2f} s")


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
