"""Bad input and faults: one specific message and exit code 2, never a traceback, and nothing
the planner gave is changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from circles.access.state import load_state
from circles.batch import District, district_populations, parse_districts
from circles.cli import main
from circles.errors import CirclesError
from circles.folders import check_name, refuse_overwriting, verify_folder
from circles.messages import language
from circles.pipeline import check_buffer, check_population, read_planner_inputs, with_authoritative
from circles.standards import load_standards
from conftest import CHENGDU, OSM_DIR, need

PKU = OSM_DIR / "beijing_haidian_pku_2017_export.osm.pbf"
SAMPLES = OSM_DIR.parent / "planner-samples"


def _fails(args: list[str], message: str) -> str:
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 2, run.output
    assert message in run.output, run.output
    assert "Traceback" not in run.output
    return run.output


@pytest.mark.parametrize("value", ["nan", "inf", "-5"])
def test_buffer_must_be_finite_metres_also_in_batch(value, tmp_path):
    osm = str(need(PKU))
    _fails(["analyze", "--osm", osm, f"--buffer={value}", "--out", str(tmp_path / "a")], "--buffer")
    out = tmp_path / "b"
    _fails(
        ["batch", "--osm", osm, "--districts", "海淀区", f"--buffer={value}", "--out", str(out)],
        "buffer",
    )
    assert not out.exists(), "no district started"


def test_batch_checks_the_osm_file_before_starting(tmp_path):
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm>broken", encoding="utf-8")
    out = tmp_path / "b"
    _fails(
        ["batch", "--osm", str(broken), "--districts", "海淀区", "--out", str(out)],
        "无法读取此 OSM 文件",
    )
    assert not out.exists()


def test_boundaries_level_option_gives_every_polygon_its_level(tmp_path):
    streets = SAMPLES / "街道.shp"
    if not streets.exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    gdf = gpd.read_file(streets)
    plain = tmp_path / "streets.geojson"
    gdf[gdf["级别"] != "区"].drop(columns="级别").to_file(plain)
    run = CliRunner().invoke(
        main,
        [
            "analyze",
            "--osm",
            str(need(CHENGDU)),
            "--boundaries",
            f"{plain}::level=street",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert run.exit_code == 0, run.output
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert '"streets": 6' in summary


def test_a_folder_where_a_cache_entry_belongs(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CIRCLES_CACHE_DIR", str(cache))
    osm = str(need(PKU))
    assert (
        CliRunner().invoke(main, ["analyze", "--osm", osm, "--out", str(tmp_path / "a")]).exit_code
        == 0
    )
    entry = next(cache.glob("extract-*.npz"))
    entry.unlink()
    entry.mkdir()
    _fails(
        ["analyze", "--osm", osm, "--out", str(tmp_path / "b")],
        "circles 缓存条目的位置上有一个同名文件夹",
    )


def test_output_folder_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    _fails(
        ["analyze", "--osm", str(need(PKU)), "--out", str(blocker / "out")],
        "无法创建输出文件夹",
    )
    _fails(["analyze", "--osm", str(need(PKU)), "--out", str(blocker)], "已存在且不是文件夹")
    assert blocker.read_text(encoding="utf-8") == "x"


def test_names_over_255_bytes(tmp_path):
    osm = str(need(PKU))
    _fails(["analyze", "--osm", osm, "--out", str(tmp_path / ("区" * 90))], "文件夹名长 270 字节")
    long_name = "很长的区名" * 40  # 600 bytes: the map file is named by a shortened, hashed id
    run = CliRunner().invoke(
        main, ["analyze", "--osm", osm, "--district-name", long_name, "--out", str(tmp_path / "a")]
    )
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(main, ["map", "--analysis", str(tmp_path / "a"), "--offline"])
    assert run.exit_code == 0, run.output


def _tmpfs(path: Path, size: str) -> bool:
    """Mount a small tmpfs at ``path`` (needs root; False where not allowed)."""
    path.mkdir()
    if not shutil.which("mount") or os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def test_full_disk_keeps_the_previous_result(tmp_path):
    """On a real full disk (a 1.5 MB tmpfs) where the machine allows mounting one; the
    simulated ENOSPC of test_folders covers the rest."""
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "1500k"):
        pytest.skip("cannot mount a tmpfs here (not root); see test_folders' simulated ENOSPC")
    try:
        small = [sys.executable, "-m", "circles", "analyze", "--osm", str(need(PKU))]
        out = disk / "result"
        first = subprocess.run([*small, "--out", str(out)], capture_output=True, text=True)
        big = [sys.executable, "-m", "circles", "analyze", "--osm", str(need(CHENGDU))]
        second = subprocess.run([*big, "--out", str(out)], capture_output=True, text=True)
        assert second.returncode == 2, second.stderr
        assert "磁盘已满；未做任何改动" in second.stderr
        assert "Traceback" not in second.stderr
        if first.returncode == 0:  # the small result fitted: it is still there, whole
            from circles.folders import verify_folder

            verify_folder(out)
        assert not [p for p in disk.iterdir() if ".partial-" in p.name]
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.parametrize("option", ["--osm", "--facilities", "--area"])
def test_file_name_over_255_bytes_is_a_clear_error(option, tmp_path):
    long = str(tmp_path / ("设施" * 50 + ".csv"))
    args = ["analyze", "--osm", str(need(PKU)), option, long, "--out", str(tmp_path / "o")]
    if option == "--osm":
        args = ["analyze", "--osm", long, "--out", str(tmp_path / "o")]
    _fails(args, "字节；文件系统最多允许 255 字节。请使用更短的文件名或文件夹名。")
    english = _fails([*args, "--lang", "en"], "bytes long; file systems allow 255")
    assert "circles: error: " in english


def test_an_area_file_inside_the_output_folder_is_never_overwritten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    area = out / "summary.json"  # a polygon file that happens to bear an output's name
    box = shapely.box(116.308, 39.990, 116.331, 40.012)  # the PKU extract
    gpd.GeoDataFrame(geometry=[box], crs=4326).to_file(area, driver="GeoJSON")
    before = area.read_bytes()
    _fails(
        ["analyze", "--osm", str(need(PKU)), "--area", str(area), "--out", str(out)],
        "该输出会覆盖一个输入文件",
    )
    assert area.read_bytes() == before


def test_gcj02_points_read_as_wgs84_name_the_datum(tmp_path):
    childcare = SAMPLES / "托育机构.csv"  # Amap (GCJ-02) coordinates, no hint in the headers
    if not childcare.exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    args = ["analyze", "--osm", str(need(CHENGDU)), "--facilities", str(childcare)]
    _fails(
        [*args, "--out", str(tmp_path / "o")],
        "按 gcj02（高德/腾讯）读取，所有点都在范围内：请用 --crs gcj02",
    )
    assert not (tmp_path / "o").exists()


# words a Chinese message may hold: commands and tags the planner types, and file names
TYPED = {"circles", "analyze", "batch", "landuse", "residential", "highway", "COLUMN", "FILE"}
TYPED |= {
    "OSM",
    "name",
    "level",
    "street",
    "population",
    "manifest",
    "json",
    "access",
    "npz",
    "csv",
}


def _english_left(message: str, *given: object) -> set[str]:
    """Runs of 3+ ASCII letters in ``message`` other than what the planner gave (``given``),
    quoted values, option names and the words in ``TYPED``."""
    for text in given:
        message = message.replace(str(text), "")
    message = re.sub(r"“[^”]*”|--[a-z-]+|::\w+=\w+", "", message)
    return set(re.findall(r"[A-Za-z]{3,}", message)) - TYPED


def _raised(call: object, *args: object) -> str:
    with pytest.raises(CirclesError) as caught:
        call(*args)
    return str(caught.value)


def test_input_errors_of_a_run_are_chinese_by_default(tmp_path):
    state = tmp_path / "access.npz"
    np.savez(state, format_version=np.array(99))
    long, table = tmp_path / ("区" * 100), tmp_path / "a.csv"
    box = shapely.box(0, 0, 1, 1)
    two = [District("甲", "甲", box), District("乙", "乙", box)]
    messages = {
        _raised(check_population, "-3"): [],
        _raised(check_buffer, -5.0): [],
        _raised(read_planner_inputs, "1,2,3,4", "西青区", None, (), None, None, None): [],
        _raised(with_authoritative, load_standards(None), ["kindergarden"]): [],
        _raised(verify_folder, tmp_path): [tmp_path],
        _raised(check_name, long): [long],
        _raised(refuse_overwriting, tmp_path, ["a.csv"], [table]): [table],
        _raised(parse_districts, "，"): [],
        _raised(district_populations, "600000", two): [],
        _raised(load_state, state): [state],
    }
    for message, given in messages.items():
        assert re.search(r"[\u4e00-\u9fff]", message), message
        assert not _english_left(message, *given), message
    with language("en"):
        assert "unknown category" in _raised(with_authoritative, load_standards(None), ["x"])
