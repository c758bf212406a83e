"""circles batch: districts as tasks on a two-worker Dask cluster give the single-run results."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from circles import analyze
from circles.batch import (
    DistrictRun,
    district_populations,
    figures,
    format_table,
    parse_districts,
    run_batch,
    slugify,
)
from circles.cli import main
from circles.errors import InputError
from circles.messages import language
from circles.present.tables import write_outputs
from conftest import OSM_DIR, need

CHENGDU_PBF = OSM_DIR / "chengdu_central_osmconvert_2018.osm.pbf"
WEST = ("西片", box(104.04, 30.655, 104.075, 30.69))
EAST = ("东片", box(104.075, 30.655, 104.11, 30.69))
OUTSIDE = ("城外 A/B", box(105.0, 31.0, 105.01, 31.01))  # far beyond the extract: analyze fails


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A local cluster of two worker processes on loopback; its scheduler address.

    Workers and this process share an empty network cache, not the user's.
    """
    distributed = pytest.importorskip("distributed")
    need(CHENGDU_PBF)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CIRCLES_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))  # before spawning
        # a free dashboard port: the default 8787 may be taken, and Dask then warns
        with distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster:
            yield cluster.scheduler_address


def districts_file(path, districts):
    names, geoms = zip(*districts, strict=True)
    gdf = gpd.GeoDataFrame({"名称": list(names)}, geometry=list(geoms), crs=4326)
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def without_timings(summary: dict) -> dict:
    """What must agree between runs: all but stage times and whether the cache was used."""
    return {k: v for k, v in summary.items() if k not in ("timings_s", "cache")}


def test_batch_gives_the_results_of_each_district_run_alone(scheduler, tmp_path):
    out = tmp_path / "out"
    runs = run_batch(
        CHENGDU_PBF, districts_file(tmp_path / "d.geojson", [WEST, EAST]), out, scheduler
    )
    assert [(r.name, r.status, r.attempts) for r in runs] == [("西片", "ok", 1), ("东片", "ok", 1)]
    assert len({r.worker for r in runs}) >= 1
    report = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert report["ok"] == 2 and report["failed"] == 0
    for (name, area), run, listed in zip([WEST, EAST], runs, report["districts"], strict=True):
        folder = out / name
        assert run.output == str(folder) == listed["output"]
        alone = analyze(CHENGDU_PBF, area=area, district_name=name, cache=False)
        write_outputs(alone, tmp_path / "alone" / name)
        expected = tmp_path / "alone" / name
        assert (folder / "gaps.csv").read_bytes() == (expected / "gaps.csv").read_bytes()
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        alone_summary = json.loads((expected / "summary.json").read_text(encoding="utf-8"))
        assert without_timings(summary) == without_timings(alone_summary)
        for layer in ("communities", "demand_points", "facilities"):
            pd.testing.assert_frame_equal(
                pyogrio.read_dataframe(folder / "analysis.gpkg", layer=layer),
                pyogrio.read_dataframe(expected / "analysis.gpkg", layer=layer),
            )
        assert listed["figures"]["standards"] == summary["standards"]["profile"] == "national"
        assert listed["figures"]["communities"] == summary["communities"]["count"] > 0
        assert listed["figures"]["population"] == summary["communities"]["population"]
    assert sorted(p.name for p in out.iterdir()) == sorted(["batch.json", "西片", "东片"])


def test_failed_district_is_retried_reported_and_leaves_no_folder(scheduler, tmp_path):
    out = tmp_path / "out"
    bad = slugify(OUTSIDE[0])
    (out / bad).mkdir(parents=True)  # a previous run's result, not this run's
    (out / bad / "gaps.csv").write_text("old\n")
    (out / f".{bad}.partial-dead").mkdir()  # left by a worker that died
    path = districts_file(tmp_path / "d.geojson", [OUTSIDE, WEST])
    args = ["batch", "--osm", str(CHENGDU_PBF), "--districts", str(path), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--scheduler", scheduler])
    assert result.exit_code == 1, result.output
    report = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    failed, ok = report["districts"]
    assert (failed["name"], failed["status"], failed["attempts"]) == (OUTSIDE[0], "failed", 2)
    assert "位于OSM数据文件" in failed["error"] and "之外" in failed["error"]
    assert len(failed["errors"]) == 2
    assert failed["output"] is None and failed["traceback"] is None
    assert (ok["name"], ok["status"], ok["attempts"]) == ("西片", "ok", 1)
    assert (report["ok"], report["failed"]) == (1, 1)
    assert sorted(p.name for p in out.iterdir()) == ["batch.json", "西片"]
    assert (out / "西片" / "gaps.csv").exists()
    assert "circles：2 个区县中有 1 个失败" in result.output and "西片" in result.output


def test_input_errors_stop_the_batch_before_any_task(tmp_path):
    need(CHENGDU_PBF)
    nowhere = "tcp://127.0.0.1:9"  # never contacted: the inputs are checked first
    cases = [
        (
            ["--osm", str(tmp_path / "missing.osm.pbf"), "--districts", "西青区"],
            "找不到OSM数据文件",
        ),
        (["--osm", str(CHENGDU_PBF), "--districts", "西青区,不存在区"], "不存在区"),
        (["--osm", str(CHENGDU_PBF), "--districts", str(tmp_path / "d.geojson")], "找不到该文件"),
        (
            ["--osm", str(CHENGDU_PBF), "--districts", "西青区", "--standards", "xiqin"],
            "是否指“xiqing”？",
        ),
    ]
    for args, message in cases:
        result = CliRunner().invoke(
            main, ["batch", *args, "--scheduler", nowhere, "--out", str(tmp_path / "out")]
        )
        assert result.exit_code == 2, result.output
        assert message in result.output and "connect" not in result.output
    assert not (tmp_path / "out").exists()


def test_districts_by_name_or_code_and_folder_names():
    districts = parse_districts("西青区，120104")
    assert [(d.name, d.code, d.slug) for d in districts] == [
        ("天津市西青区", "120111", "天津市西青区"),
        ("天津市南开区", "120104", "天津市南开区"),
    ]
    assert slugify(' 南开区/学府街道: "A"<1>|?* ') == "南开区_学府街道_A_1"
    assert slugify("../x.") == "x" and slugify("CON") == "CON_"
    with pytest.raises(InputError, match="有区县重复给出"):
        parse_districts("西青区,120111")
    with language("en"), pytest.raises(InputError, match="given twice"):
        parse_districts("西青区,120111")


def test_batch_population_one_number_needs_one_district(tmp_path):
    districts = districts_file(tmp_path / "d.geojson", [WEST, EAST])
    run = CliRunner().invoke(
        main,
        ["batch", "--osm", str(need(CHENGDU_PBF)), "--districts", str(districts),
         "--out", str(tmp_path / "out"), "--population", "600000"],
    )  # fmt: skip
    assert run.exit_code == 2
    assert "--population 600000：2 个区县只给了一个总数" in run.output
    one = parse_districts(districts_file(tmp_path / "one.geojson", [WEST]))
    assert district_populations("600,000", one) == {"西片": 600000.0}


def test_batch_population_per_district_from_a_file(tmp_path):
    districts = parse_districts(districts_file(tmp_path / "d.geojson", [WEST, EAST]))
    table = tmp_path / "人口.csv"
    table.write_text('名称,常住人口\n东片,90000\n西片,"120,000"\n', encoding="utf-8")
    assert district_populations(str(table), districts) == {"西片": 120000.0, "东片": 90000.0}
    table.write_text("名称,常住人口\n东片,90000\n", encoding="utf-8")
    with pytest.raises(InputError, match="没有 西片 的人口；请为每个区县给出一行"):
        district_populations(str(table), districts)


def test_batch_passes_population_and_authoritative_to_each_district(scheduler, tmp_path):
    out = tmp_path / "out"
    table = tmp_path / "人口.csv"
    table.write_text("名称,常住人口\n西片,120000\n东片,90000\n", encoding="utf-8")
    runs = run_batch(
        CHENGDU_PBF,
        districts_file(tmp_path / "d.geojson", [WEST, EAST]),
        out,
        scheduler,
        population=str(table),
        authoritative=("elderly_meal",),
    )
    assert [r.status for r in runs] == ["ok", "ok"]
    for name, total in (("西片", 120000), ("东片", 90000)):
        summary = json.loads((out / name / "summary.json").read_text(encoding="utf-8"))
        assert summary["population"]["total"] == total
        assert summary["population"]["calibrated_by"] == f"--population {total:,}"
        cat = next(c for c in summary["categories"] if c["category_id"] == "elderly_meal")
        assert cat["authority"] == "checked"
    report = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert report["options"]["population"] == {"西片": 120000.0, "东片": 90000.0}
    assert report["options"]["authoritative"] == ["elderly_meal"]


def test_batch_table_says_what_each_population_rests_on():
    """One row per district: official, an uncalibrated estimate, or an estimate scaled to an
    official total (and by how much)."""

    def summary(estimated: bool, population: dict) -> dict:
        return {
            "communities": {"count": 3, "population": 1000, "population_estimated": estimated},
            "population": population,
            "categories": [],
            "no_data_categories": [],
            "network": {"nodes": 10},
            "warnings": [],
            "standards": {"profile": "national"},
        }

    cases = {
        "甲": summary(False, {"calibrated_by": "communities file"}),
        "乙": summary(True, {"calibrated_by": None}),
        "丙": summary(True, {"calibrated_by": "--population", "calibration_factor": 1.42}),
    }
    runs = [
        DistrictRun(name, name, None, "ok", 1, 1.0, name, figures=figures(s))
        for name, s in cases.items()
    ]
    lines = format_table(runs).splitlines()
    assert "人口依据" in lines[0]
    assert "官方" in lines[1]
    assert "估算（未校准）" in lines[2]
    assert "估算 ×1.42（--population）" in lines[3]


def test_strict_makes_rows_without_coordinates_fail_the_batch(scheduler, tmp_path):
    """A footer row without coordinates: an error naming file and row with --strict (before any
    district starts), else a warning, and the districts still run."""
    table = tmp_path / "幼儿园.csv"
    table.write_text(
        "名称,经度,纬度\n测试幼儿园,104.060,30.670\n填表人：张三,,\n", encoding="utf-8"
    )
    districts = districts_file(tmp_path / "d.geojson", [WEST])
    args = ["batch", "--osm", str(CHENGDU_PBF), "--districts", str(districts)]
    args += ["--facilities", f"{table}::category=kindergarten,crs=wgs84"]
    strict = CliRunner().invoke(
        main, [*args, "--strict", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "s")]
    )
    assert strict.exit_code == 2, strict.output
    assert str(table) in strict.output and "填表人：张三" in strict.output
    assert not (tmp_path / "s").exists(), "no district started"
    out = tmp_path / "out"
    run = CliRunner().invoke(main, [*args, "--scheduler", scheduler, "--out", str(out)])
    assert run.exit_code == 0, run.output
    warned = [line for line in run.output.splitlines() if line.startswith("警告：")]
    assert any(str(table) in w and "填表人：张三" in w for w in warned), run.output
    summary = json.loads((out / "西片" / "summary.json").read_text(encoding="utf-8"))
    assert any("填表人：张三" in w for w in summary["warnings"])
    report = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert report["options"]["strict"] is False
