"""Result folders are all or nothing: swapped in whole, locked, sealed by a manifest that
readers verify; a killed run or a full disk leaves the previous result."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from circles.cli import main
from circles.errors import InputError
from circles.folders import (
    MANIFEST,
    read_manifest,
    result_folder,
    safe_name,
    verify_folder,
)
from circles.messages import language
from conftest import CHENGDU, need

KILLS = 30  # per command


def _write(folder: Path, text: str) -> None:
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "b.txt").write_text(text * 2, encoding="utf-8")


def test_new_result_replaces_the_old_whole_and_keeps_foreign_files(tmp_path):
    final = tmp_path / "out"
    with result_folder(final, "test") as tmp:
        _write(tmp, "one")
    (final / "planner.csv").write_text("mine", encoding="utf-8")  # the planner's own file
    with result_folder(final, "test") as tmp:
        (tmp / "a.txt").write_text("two", encoding="utf-8")
    assert (final / "a.txt").read_text(encoding="utf-8") == "two"
    assert not (final / "sub").exists(), "an output of the old run that the new one lacks"
    assert (final / "planner.csv").read_text(encoding="utf-8") == "mine"
    assert set(read_manifest(final)["files"]) == {"a.txt"}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == [".out.lock"]


def test_error_inside_leaves_previous_result(tmp_path):
    final = tmp_path / "out"
    with result_folder(final, "test") as tmp:
        _write(tmp, "one")
    before = read_manifest(final)

    def fail() -> None:
        with result_folder(final, "test") as tmp:
            (tmp / "a.txt").write_text("half", encoding="utf-8")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        fail()
    assert read_manifest(final) == before
    verify_folder(final)


def test_full_disk_is_a_clear_error_and_keeps_previous_result(tmp_path):
    final = tmp_path / "out"
    with result_folder(final, "test") as tmp:
        _write(tmp, "one")
    with (
        pytest.raises(InputError, match="磁盘已满；未做任何改动"),
        result_folder(final, "test") as tmp,
    ):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp / "a.txt"))
    verify_folder(final)
    assert (final / "a.txt").read_text(encoding="utf-8") == "one"


def test_second_writer_is_refused(tmp_path):
    final = tmp_path / "out"
    with result_folder(final, "test") as tmp:
        with (
            pytest.raises(InputError, match="另一个 circles 进程正在写入"),
            result_folder(final, "test"),
        ):
            pass
        _write(tmp, "one")
    verify_folder(final)


def test_leftovers_of_killed_runs_are_cleaned_and_a_half_swap_restored(tmp_path):
    final = tmp_path / "out"
    with result_folder(final, "test") as tmp:
        _write(tmp, "one")
    (tmp_path / ".out.partial-dead").mkdir()
    final.rename(tmp_path / ".out.old-dead")  # killed between the two renames of a fallback swap
    with result_folder(final, "test") as tmp:
        assert (final / "a.txt").read_text(encoding="utf-8") == "one", "restored first"
        _write(tmp, "two")
    assert not list(tmp_path.glob(".out.partial-*")) and not list(tmp_path.glob(".out.old-*"))


def test_reader_refuses_a_folder_that_does_not_match_its_manifest(tmp_path):
    final = tmp_path / "out"
    with result_folder(final, "test") as tmp:
        _write(tmp, "one")
    verify_folder(final, ["a.txt"])
    (final / "a.txt").write_text("tampered", encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.txt 与写入时的内容不一致。请重新运行"):
        verify_folder(final)
    with language("en"), pytest.raises(InputError, match=r"a\.txt differs"):
        verify_folder(final)
    (final / "a.txt").unlink()
    with pytest.raises(InputError, match=r"缺少 a\.txt，文件夹不完整"):
        verify_folder(final)
    with language("en"), pytest.raises(InputError, match=r"a\.txt is missing"):
        verify_folder(final)
    (final / MANIFEST).unlink()
    with pytest.raises(InputError, match=r"没有有效的 manifest\.json"):
        verify_folder(final)
    with language("en"), pytest.raises(InputError, match=r"no valid manifest\.json"):
        verify_folder(final)


def test_names_from_data_become_safe_bounded_file_names():
    assert safe_name("../../etc/passwd") == "_.._etc_passwd"
    long = safe_name("社区" * 200)
    assert len(long.encode("utf-8")) <= 120 and long != safe_name("社区" * 201)
    assert safe_name("") == "_"


def test_too_long_out_name_is_a_clear_error(tmp_path):
    with (
        pytest.raises(InputError, match=r"文件夹名长 300 字节；文件系统最多允许 255 字节"),
        result_folder(tmp_path / ("区" * 100), "test"),
    ):
        pass


# ---------------------------------------------------------------------------------------------
# SIGKILL at random points: the final folder is the previous result or the new complete one
# ---------------------------------------------------------------------------------------------


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "circles", *args]


def _kill_runs(args: list[str], final: Path, seed: int) -> dict[str, int]:
    """Run ``args`` KILLS times, killed at random moments; check the folder after each."""
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    subprocess.run(_command(args), check=True, capture_output=True, env=env)
    duration = time.perf_counter() - started
    rng = random.Random(seed)
    outcomes = {"previous": 0, "new": 0}
    for i in range(KILLS):
        before = read_manifest(final)
        # half over the whole run, half over its last 40 % (where files are written)
        at = rng.uniform(0, 1.05) if i % 2 else rng.uniform(0.6, 1.05)
        proc = subprocess.Popen(
            _command(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        time.sleep(at * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        verify_folder(final)  # complete: every file matches the manifest
        after = read_manifest(final)
        outcomes["previous" if after == before else "new"] += 1
        assert not any(p.name.endswith(".tmp") for p in final.iterdir())
    return outcomes


@pytest.mark.slow
def test_killed_analyze_and_map_leave_previous_or_new_complete_result(tmp_path):
    osm = need(CHENGDU.with_suffix(".osm.pbf"))
    analysis = tmp_path / "analysis"
    outcomes = _kill_runs(["analyze", "--osm", str(osm), "--out", str(analysis)], analysis, 1)
    print("analyze", outcomes)
    maps = tmp_path / "maps"
    args = ["map", "--analysis", str(analysis), "--offline", "--category", "kindergarten"]
    outcomes_map = _kill_runs([*args, "--out", str(maps)], maps, 2)
    print("map", outcomes_map)
    assert outcomes["previous"] > 0 and outcomes["new"] > 0
    assert outcomes_map["previous"] > 0 and outcomes_map["new"] > 0


def test_cli_readers_refuse_an_incomplete_folder(tmp_path):
    osm = need(CHENGDU.with_suffix(".osm.pbf"))
    out = tmp_path / "a"
    run = CliRunner().invoke(main, ["analyze", "--osm", str(osm), "--out", str(out)])
    assert run.exit_code == 0, run.output
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert {"analysis.gpkg", "access.npz", "summary.json"} <= set(manifest["files"])
    (out / "summary.json").write_text("{}", encoding="utf-8")  # a mixed folder
    for args in (
        ["score", "--analysis", str(out), "--category", "kindergarten", "--at", "104.08,30.69"],
        ["map", "--analysis", str(out), "--offline", "--out", str(tmp_path / "m")],
    ):
        run = CliRunner().invoke(main, args)
        assert run.exit_code == 2, run.output
        assert "summary.json 与写入时的内容不一致" in run.output


def test_an_output_never_replaces_an_input(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    table = final / "sites.csv"
    table.write_text("名称,经度,纬度\n", encoding="utf-8")
    with (
        pytest.raises(InputError, match="该输出会覆盖一个输入文件"),
        result_folder(final, "test", inputs=[table]) as tmp,
    ):
        (tmp / "sites.csv").write_text("output", encoding="utf-8")
    assert table.read_text(encoding="utf-8") == "名称,经度,纬度\n"
    with result_folder(final, "test", inputs=[table]) as tmp:
        (tmp / "scores.csv").write_text("output", encoding="utf-8")
    assert table.read_text(encoding="utf-8") == "名称,经度,纬度\n", "carried over"
