"""The CLI end to end: outputs a planner opens, and specific errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner

from circles.cli import main
from conftest import CHENGDU, need


@pytest.fixture(scope="module")
def chengdu_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["analyze", "--osm", str(need(CHENGDU)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result


def test_analyze_writes_gpkg_csv_json(chengdu_run):
    out, result = chengdu_run
    layers = {name for name, _ in pyogrio.list_layers(out / "analysis.gpkg")}
    assert layers == {"communities", "facilities", "demand_points", "network_edges", "water"}
    communities = gpd.read_file(out / "analysis.gpkg", layer="communities")
    assert len(communities) > 100
    raw = (out / "gaps.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel shows Chinese"
    text = raw.decode("utf-8-sig")
    assert "幼儿园" in text and "未达标" in text and "无数据" in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["network"]["nodes"] > 1000
    assert "elderly_meal" in summary["no_data_categories"]
    assert summary["standards"]["profile"] == "national"
    assert summary["standards"]["chosen_by"] == "default"
    assert not list(out.glob(".*")), "no temporary files left behind"
    assert "幼儿园" in result.output
    assert "标准：国家基准" in result.output and "［national；默认］" in result.output


def test_english_output(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "--osm",
            str(need(CHENGDU)),
            "--lang",
            "en",
            "--area",
            "104.06,30.66,104.10,30.70",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "gaps.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("level,unit id")
    assert "Kindergarten" in text and "no data" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--osm", "missing.osm.pbf"], "找不到 OSM 文件"),
        (["--area", "116.3,39.9,116.4,40.0"], "位于OSM数据文件"),
        (["--area", "1,2,3"], "既不是范围框"),
        (["--standards", "missing.yaml"], "找不到标准文件"),
        (["--standards", "xiqin"], "未知标准“xiqin”。是否指“xiqing”？"),
    ],
)
def test_user_errors_exit_2_without_traceback(args, message, tmp_path):
    if "--osm" not in args:
        args = ["--osm", str(need(CHENGDU)), *args]
    result = CliRunner().invoke(main, ["analyze", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_invalid_yaml_exits_2(tmp_path):
    bad = tmp_path / "std.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "--osm",
            str(need(CHENGDU)),
            "--standards",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "YAML 语法错误" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: std.yaml\n", "第 1 行，键 extends：“extends”形成循环"),
        ("extends: nationl\n", "第 1 行，键 extends：未知的上级标准“nationl”"),
        (
            "extends: national\nrules:\n  - {id: x, kind: presence, name: {zh: 书屋, en: x}, "
            "category: no_such_category, unit: community, source: {document: d, clause: c}}\n",
            "第 3 行，键 rules.0.category：未知类别“no_such_category”",
        ),
    ],
)
@pytest.mark.parametrize("command", ["analyze", "check"])
def test_bad_profile_exits_2_naming_file_and_line(tmp_path, text, message, command):
    bad = tmp_path / "std.yaml"
    bad.write_text(text, encoding="utf-8")
    args = ["--osm", str(need(CHENGDU)), "--out", str(tmp_path / "o")]
    if command == "check":
        args = ["--communities", str(tmp_path / "none.csv")]
    result = CliRunner().invoke(main, [command, *args, "--standards", str(bad)])
    assert result.exit_code == 2, result.output
    assert f"{bad} {message}" in result.output
    assert "Traceback" not in result.output


def test_saved_folder_holds_the_resolved_profile_and_every_file_of_its_chain(tmp_path):
    from circles.planning.saved import load_analysis

    child = tmp_path / "city.yaml"
    child.write_text("extends: xiqing\ndrop_rules: [kindergarten_300m]\n", encoding="utf-8")
    out = tmp_path / "o"
    args = ["--osm", str(need(CHENGDU)), "--area", "104.06,30.66,104.10,30.70", "--out", str(out)]
    result = CliRunner().invoke(main, ["analyze", *args, "--standards", str(child)])
    assert result.exit_code == 0, result.output
    assert "［city；由 --standards 指定］" in result.output
    saved = load_analysis(out).standards
    ids = [r.id for r in saved.rules]
    assert "elderly_daycare_15min_elderly" in ids and "kindergarten_300m" not in ids
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    inputs = [Path(i["path"]).name for i in manifest["inputs"]]
    assert inputs[1:] == [
        "national.yaml",
        "categories.yaml",
        "tianjin.yaml",
        "xiqing.yaml",
        "city.yaml",
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["standards"]["profile"] == "city"
    assert summary["standards"]["files"] == saved.files


def test_never_overwrites_an_input(tmp_path, standards):
    src = Path(standards.path)
    for f in src.parent.glob("*.yaml"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    victim = tmp_path / "summary.json"  # a standards file that happens to sit where output goes
    victim.write_bytes((tmp_path / src.name).read_bytes())
    before = victim.read_bytes()
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "--osm",
            str(need(CHENGDU)),
            "--standards",
            str(victim),
            "--area",
            "104.06,30.66,104.10,30.70",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "该输出会覆盖一个输入文件" in result.output
    assert victim.read_bytes() == before


def test_every_command_has_help():
    for command in main.commands:
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_polygon_area_file_and_empty_network(tmp_path):
    area = tmp_path / "area.geojson"
    area.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[104.06,30.66],[104.10,30.66],'
        "[104.10,30.70],[104.06,30.70],[104.06,30.66]]]}}]}",
        encoding="utf-8",
    )
    ok = CliRunner().invoke(
        main, ["analyze", "--osm", str(need(CHENGDU)), "--area", str(area), "--out", str(tmp_path)]
    )
    assert ok.exit_code == 0, ok.output
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["study_area_wgs84_bounds"] == [104.06, 30.66, 104.1, 30.7]
    # a 20 m box between streets holds no walkable street
    tiny = CliRunner().invoke(
        main,
        [
            "analyze",
            "--osm",
            str(need(CHENGDU)),
            "--area",
            "104.0499,30.6599,104.0501,30.6601",
            "--buffer",
            "0",
            "--out",
            str(tmp_path / "t"),
        ],
    )
    assert tiny.exit_code == 2
    assert "研究范围内没有可步行的道路" in tiny.output
    assert "Traceback" not in tiny.output


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("zh", "circles：错误：--workers 用于设置本机集群；给出 --scheduler 时由该集群决定"),
        ("en", "circles: error: --workers sets the local cluster; with --scheduler the cluster"),
    ],
)
def test_errors_speak_the_command_language(lang, message, tmp_path):
    args = ["batch", "--osm", "x.osm", "--districts", "西青区", "--out", str(tmp_path)]
    result = CliRunner().invoke(
        main, [*args, "--workers", "2", "--scheduler", "tcp://h:1", "--lang", lang]
    )
    assert result.exit_code == 2
    assert message in result.output
