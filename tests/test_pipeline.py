"""The pipeline's own decisions: inputs counted once, study areas of every size."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from circles import analyze
from circles.cli import main
from circles.messages import language
from circles.pipeline import _drop_repeated_records, _once
from circles.sources.planner_files import FileSpec, Problems
from conftest import CHENGDU, OSM_DIR, need

SAMPLES = OSM_DIR.parent / "planner-samples"
PKU = OSM_DIR / "beijing_haidian_pku_2017_export.osm.pbf"


@pytest.fixture(scope="module")
def meals():
    path = SAMPLES / "老年助餐点.xlsx"
    if not path.exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    return f"{path}::category=elderly_meal,crs=gcj02"


def _count(result, category):
    return int((result.facilities["category_id"] == category).sum())


def test_same_file_twice_or_same_records_in_two_files_count_once(meals, tianjin, tmp_path):
    standards = tianjin  # Tianjin's profile judges elderly meals
    once = analyze(need(CHENGDU), standards=standards, facilities=[meals])
    twice = analyze(need(CHENGDU), standards=standards, facilities=[meals, meals])
    copy = tmp_path / "助餐点副本.csv"  # the same records, saved again as CSV
    pd.read_excel(meals.split("::")[0]).to_csv(copy, index=False, encoding="utf-8")
    copied = analyze(
        need(CHENGDU),
        standards=standards,
        facilities=[meals, f"{copy}::category=elderly_meal,crs=gcj02"],
    )
    n = _count(once, "elderly_meal")
    assert n > 0
    assert _count(twice, "elderly_meal") == n
    assert _count(copied, "elderly_meal") == n
    assert any("是同一文件：其中的设施只计一次" in w for w in twice.warnings)
    assert any(f"{n} 处设施与前面已给出的记录重复" in w for w in copied.warnings)
    pick = once.results["rule_id"].str.startswith("elderly_meal")
    assert pick.any() and twice.results[pick].equals(once.results[pick])


@pytest.mark.parametrize(
    ("lang", "same", "repeat"),
    [
        ("zh", "与“{spec}”是同一文件", "2 处设施与前面已给出的记录重复（类别、名称和位置均相同）"),
        ("en", "the same file as {spec}", "2 facilities repeat records given earlier"),
    ],
)
def test_files_and_records_given_twice_are_named_in_the_run_language(lang, same, repeat, tmp_path):
    path = tmp_path / "助餐点.csv"
    path.write_text("名称,经度,纬度\n", encoding="utf-8")
    spec = FileSpec.parse(f"{path}::category=elderly_meal")
    again = FileSpec.parse(f"{path}::crs=wgs84,category=elderly_meal")  # options in another order
    points = [Point(104.08, 30.69)] * 3
    frame = gpd.GeoDataFrame({"category_id": ["elderly_meal"] * 3, "name": "甲"}, geometry=points)
    with language(lang):
        problems = Problems()
        assert _once([spec, spec, again], problems) == [spec, again]
        assert len(_drop_repeated_records([spec], [frame], problems)[0]) == 1
    first, second = (str(w) for w in problems.warnings)
    assert same.format(spec=spec) in first
    assert repeat in second


def test_world_sized_area_is_the_whole_extract(tmp_path):
    osm = need(PKU)
    whole = CliRunner().invoke(main, ["analyze", "--osm", str(osm), "--out", str(tmp_path / "a")])
    world = CliRunner().invoke(
        main, ["analyze", "--osm", str(osm), "--area=-179,-89,179,89", "--out", str(tmp_path / "b")]
    )
    assert whole.exit_code == 0 and world.exit_code == 0, world.output
    a = (tmp_path / "a" / "gaps.csv").read_text(encoding="utf-8-sig").splitlines()
    b = (tmp_path / "b" / "gaps.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(a) == len(b)


@pytest.mark.parametrize(
    "area", ["116.34.1,39.99,116.36,40.01", "116.36,39.99,116.34,40.01", "1e999,0,1,1"]
)
def test_malformed_area_is_one_clear_error(area, tmp_path):
    run = CliRunner().invoke(
        main, ["analyze", "--osm", str(need(PKU)), f"--area={area}", "--out", str(tmp_path)]
    )
    assert run.exit_code == 2
    assert "应为以度为单位的 minlon,minlat,maxlon,maxlat" in run.output
    assert "Traceback" not in run.output
