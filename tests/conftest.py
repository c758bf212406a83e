"""Shared fixtures: the real OSM extracts in ../shared/osm and analyses run on them once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS

from circles import analyze, load_standards
from circles.model.network import Network

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NO_BROWSER = "Debian chromium and chromium-driver are not installed (.ci/run installs them)"
OSM_DIR = Path(__file__).resolve().parents[2] / "shared" / "osm"
MATCHING_REPORT = pytest.StashKey[str]()  # the precision/recall table of test_matching.py
CHENGDU = OSM_DIR / "chengdu_central_osmconvert_2018.osm"
SHENZHEN = OSM_DIR / "shenzhen_nanshan_overpass_2021-03.osm"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the facility-matching table when test_matching.py computed it."""
    report = config.stash.get(MATCHING_REPORT, None)
    if report:
        terminalreporter.write_sep("-", "facility matching on tests/data/labelled_facilities.csv")
        terminalreporter.write_line(report)


def need(path: Path) -> Path:
    """Skip (with the reason) when the shared real extracts are absent."""
    if not path.exists():
        pytest.skip(f"real OSM extract {path} not found: tests on real data need ../shared/osm")
    return path


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory):
    """Keep the network cache of test runs out of the user's cache folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIRCLES_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def standards():
    return load_standards()


@pytest.fixture(scope="session")
def tianjin():
    """Tianjin's profile: every rule kind (elderly circles, presence per street, coverage)."""
    return load_standards("tianjin")


@pytest.fixture(scope="session")
def chengdu_tianjin(tianjin):
    """Chengdu judged by Tianjin's rules: the rule kinds national lacks, on real data."""
    return analyze(need(CHENGDU), standards=tianjin)


@pytest.fixture(scope="session")
def chengdu(standards):
    return analyze(need(CHENGDU), standards=standards)


@pytest.fixture(scope="session")
def shenzhen(standards):
    return analyze(need(SHENZHEN), standards=standards)


@pytest.fixture(params=["chengdu", "shenzhen"])
def real(request):
    """Each real-extract analysis in turn."""
    return request.getfixturevalue(request.param)


def headless_chromium(profile: Path, logs: bool = False):
    """Headless Debian Chromium with the network switched off (as the probe starts it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.unhandled_prompt_behavior = "accept"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    return driver


def rectangle_block(width: float, height: float) -> Network:
    """A street block (0, 0)-(width, height): four streets (ways) round it, metric (UTM 48N)."""
    xy = np.array([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]])
    u, v = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 3])
    return Network(
        crs=CRS.from_epsg(32648),
        node_osm_id=np.arange(4),
        node_xy=xy,
        edge_u=u,
        edge_v=v,
        length_m=np.hypot(*(xy[u] - xy[v]).T),
        edge_way_id=np.arange(4),
        edge_highway=np.array(["residential"] * 4, dtype=object),
        component=np.zeros(4, np.int64),
        main_component=0,
        read_area_m=shapely.box(-10, -10, width + 10, height + 10),
    )
