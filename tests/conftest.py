"""Shared fixtures: the real OSM extracts in ../shared/osm and analyses run on them once."""

from __future__ import annotations

from pathlib import Path

import pytest

from circles import analyze, load_standards

OSM_DIR = Path(__file__).resolve().parents[2] / "shared" / "osm"
CHENGDU = OSM_DIR / "chengdu_central_osmconvert_2018.osm"
SHENZHEN = OSM_DIR / "shenzhen_nanshan_overpass_2021-03.osm"


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
def chengdu(standards):
    return analyze(need(CHENGDU), standards=standards)


@pytest.fixture(scope="session")
def shenzhen(standards):
    return analyze(need(SHENZHEN), standards=standards)


@pytest.fixture(params=["chengdu", "shenzhen"])
def real(request):
    """Each real-extract analysis in turn."""
    return request.getfixturevalue(request.param)
