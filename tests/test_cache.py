"""The cache of parsed extracts and networks: hits are identical, changes miss, bad entries."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circles import analyze
from circles.errors import InputError
from circles.model.network import network_from_extract
from circles.sources.cache import cache_dir
from circles.sources.osm import read_extract
from conftest import CHENGDU, need

KEYS = {"amenity", "shop", "building", "landuse", "name"}
WAY_ARRAYS = ["way_ids", "segments", "segment_way", "node_ids", "node_lonlat"]
NETWORK_ARRAYS = [
    "node_osm_id",
    "node_xy",
    "edge_u",
    "edge_v",
    "length_m",
    "edge_way_id",
    "edge_highway",
    "component",
]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache directory of the test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(folder))
    return folder


def load(path, standards, area=None, keys=KEYS, settings=None):
    extract = read_extract(path, keys, area, cache=True)
    network = network_from_extract(extract, settings or standards.network, cache=True)
    return extract, network


def assert_same(a, b):
    (ex_a, net_a), (ex_b, net_b) = a, b
    for name in WAY_ARRAYS:
        x, y = getattr(ex_a.ways, name), getattr(ex_b.ways, name)
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    assert ex_a.ways.tags == ex_b.ways.tags
    assert (ex_a.sha256, ex_a.data_date, ex_a.warnings) == (
        ex_b.sha256,
        ex_b.data_date,
        ex_b.warnings,
    )
    assert ex_a.bounds.equals_exact(ex_b.bounds, 0) and ex_a.read_area.equals_exact(
        ex_b.read_area, 0
    )
    pd.testing.assert_frame_equal(ex_a.features, ex_b.features, check_exact=True)
    assert ex_a.features.crs == ex_b.features.crs
    for name in NETWORK_ARRAYS:
        x, y = getattr(net_a, name), getattr(net_b, name)
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    assert net_a.crs == net_b.crs and net_a.crs.to_string() == net_b.crs.to_string()
    assert (net_a.main_component, net_a.stats) == (net_b.main_component, net_b.stats)
    assert net_a.read_area_m.equals_exact(net_b.read_area_m, 0)


def test_second_load_hits_and_is_identical(cache, standards):
    first = load(need(CHENGDU), standards)
    assert (first[0].cache, first[1].cache) == ("miss", "miss")
    assert sorted(p.name.split("-")[0] for p in cache.glob("*.npz")) == [
        "extract",
        "network",
        "ways",
    ]
    second = load(CHENGDU, standards)
    assert (second[0].cache, second[1].cache) == ("hit", "hit")
    assert_same(first, second)
    uncached = read_extract(CHENGDU, KEYS)
    assert uncached.cache == "off"
    assert_same(second, (uncached, network_from_extract(uncached, standards.network)))
    assert second[1].n_nodes == 8026 and second[1].n_edges == 9365


def test_changed_settings_area_keys_or_file_miss(cache, standards, tmp_path):
    load(need(CHENGDU), standards)
    no_footways = standards.network.model_copy(
        update={"highway_include": [h for h in standards.network.highway_include if h != "footway"]}
    )
    extract, network = load(CHENGDU, standards, settings=no_footways)
    assert (extract.cache, network.cache) == ("hit", "miss")
    assert network.n_edges < 9365

    extract, network = load(CHENGDU, standards, area="104.07,30.67,104.09,30.69")
    assert (extract.cache, network.cache) == ("miss", "miss")
    extract, _ = load(CHENGDU, standards, keys=KEYS | {"leisure"})
    assert extract.cache == "miss"

    copy = tmp_path / CHENGDU.name
    shutil.copyfile(CHENGDU, copy)
    assert load(copy, standards)[0].cache == "hit"  # same name and content: same entry
    with copy.open("ab") as handle:
        handle.write(b"<!-- edited -->\n")
    extract, network = load(copy, standards)
    assert (extract.cache, network.cache) == ("miss", "miss")
    assert network.n_edges == 9365
    assert len(list(cache.glob("*.npz"))) == 13  # 4 extracts with their ways, 5 networks


def test_ways_load_only_when_the_network_is_built(cache, standards, monkeypatch):
    first = load(need(CHENGDU), standards)
    (ways_entry,) = cache.glob("ways-*.npz")
    ways_entry.unlink()
    extract, network = load(CHENGDU, standards)  # the cached network needs no ways
    assert (extract.cache, network.cache) == ("hit", "hit")
    assert callable(extract._ways)
    assert_same(first, (extract, network))  # the ways, read from the file again
    assert not callable(extract._ways)
    assert ways_entry.exists()  # and cached again

    no_footways = standards.network.model_copy(
        update={"highway_include": [h for h in standards.network.highway_include if h != "footway"]}
    )
    extract, network = load(CHENGDU, standards, settings=no_footways)
    assert (extract.cache, network.cache) == ("hit", "miss")
    assert 0 < network.n_edges < first[1].n_edges


def test_ways_are_not_reread_from_a_changed_file(cache, standards, tmp_path):
    copy = tmp_path / CHENGDU.name
    shutil.copyfile(need(CHENGDU), copy)
    load(copy, standards)
    for entry in [*cache.glob("ways-*.npz"), *cache.glob("network-*.npz")]:
        entry.unlink()
    extract = read_extract(copy, KEYS, cache=True)  # a hit: the ways are not loaded yet
    with copy.open("ab") as handle:
        handle.write(b"<!-- edited meanwhile -->\n")
    with pytest.raises(InputError, match="circles 使用该文件期间文件被修改"):
        network_from_extract(extract, standards.network, cache=True)
    assert not list(cache.glob("network-*.npz"))  # nothing cached under the old key


TINY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <bounds minlat="30.0" minlon="104.0" maxlat="30.1" maxlon="104.1"/>
  <node id="1" lat="30.01" lon="104.01"/>
  <node id="2" lat="30.02" lon="104.02"/>
  <node id="3" lat="30.02" lon="104.03"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/></way>
</osm>
"""


def test_extract_without_features_round_trips(cache, standards, tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(TINY, encoding="utf-8")
    first = load(path, standards)
    second = load(path, standards)
    assert (second[0].cache, second[1].cache) == ("hit", "hit")
    assert second[0].features.empty and second[1].n_edges == 2
    assert_same(first, second)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_damaged_entry_is_rebuilt(cache, standards, damage, caplog):
    first = load(need(CHENGDU), standards)
    for entry in cache.glob("*.npz"):
        data = bytearray(entry.read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "flip":  # inside the arrays: the zip CRCs catch it
            for i in range(len(data) // 3, len(data) // 3 + 64):
                data[i] ^= 0xFF
        elif damage == "garbage":
            data = bytearray(b"not a cache entry" * 100)
        else:
            data = bytearray()
        entry.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="circles.sources.cache"):
        rebuilt = load(CHENGDU, standards)
    assert (rebuilt[0].cache, rebuilt[1].cache) == ("miss", "miss")
    assert "无法读取" in caplog.text and "将重新生成" in caplog.text
    assert_same(first, rebuilt)
    again = load(CHENGDU, standards)
    assert (again[0].cache, again[1].cache) == ("hit", "hit")


def test_off_writes_nothing_and_unwritable_cache_does_not_fail(
    cache, standards, monkeypatch, tmp_path
):
    extract = read_extract(need(CHENGDU), KEYS, cache=False)
    network = network_from_extract(extract, standards.network, cache=True)  # extract uncached
    assert (extract.cache, network.cache) == ("off", "off")
    assert not cache.exists()

    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(blocker / "cache"))
    extract, network = load(CHENGDU, standards)
    assert network.n_edges == 9365


def test_cache_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("CIRCLES_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    if sys.platform.startswith("linux"):
        assert cache_dir() == Path.home() / ".cache" / "circles"
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache_dir() == tmp_path / "xdg" / "circles"
    assert "circles" in cache_dir().parts


def test_analyze_uses_the_cache(cache, standards):
    first = analyze(need(CHENGDU), standards=standards)
    assert len(list(cache.glob("*.npz"))) == 3
    second = analyze(CHENGDU, standards=standards)
    pd.testing.assert_frame_equal(first.results, second.results)
    pd.testing.assert_frame_equal(
        first.network.drop(columns="geometry"), second.network.drop(columns="geometry")
    )
    assert first.summary["network"] == second.summary["network"]
    for name in cache.glob("*.npz"):
        name.unlink()
    analyze(CHENGDU, standards=standards, cache=False)
    assert not list(cache.glob("*.npz"))
