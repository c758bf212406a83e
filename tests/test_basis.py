"""What a result rests on: authoritative or indicative data, 社区 or OSM compounds."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import circles
from circles import analyze
from circles.cli import main
from circles.messages import CATALOGUE
from circles.rules.basis import category_bases
from conftest import CHENGDU, OSM_DIR, need

SAMPLES = OSM_DIR.parent / "planner-samples"


def _rows(result, rule_id, level=None):
    res = result.results
    rows = res[res["rule_id"] == rule_id]
    return rows if level is None else rows[rows["unit_level"] == level]


def test_basis_per_category():
    bases = category_bases(
        ["a", "b", "c", "d"],
        np.array(["a", "b", "b"]),
        np.array(["osm", "planner", "osm"]),
        authoritative=["d"],
    )
    assert bases["a"].authority == "indicative" and not bases["a"].no_data
    assert bases["b"].authority == "planner"
    assert bases["c"].authority == "no_data" and bases["c"].no_data
    assert bases["d"].authority == "checked" and not bases["d"].no_data, "zero, but checked"


def test_osm_only_is_indicative_and_checked_zero_is_a_real_gap(chengdu_tianjin, tianjin):
    access = "elderly_meal_15min_elderly"
    assert set(_rows(chengdu_tianjin, access)["status"]) == {"no_data"}
    assert set(_rows(chengdu_tianjin, "kindergarten_300m")["basis"]) == {"indicative"}
    checked = analyze(need(CHENGDU), standards=tianjin, authoritative=["老年助餐点"])
    district = _rows(checked, access, "district").iloc[0]
    assert district["status"] == "fail" and district["value"] == 0
    assert district["basis"] == "checked"
    cat = next(c for c in checked.summary["categories"] if c["category_id"] == "elderly_meal")
    assert cat["authority"] == "checked"


def test_completeness_is_measured_and_thin_categories_name_the_fix(chengdu):
    cats = {c["category_id"]: c for c in chengdu.summary["categories"]}
    meal = cats["elderly_meal"]["completeness"]
    assert meal["per_10k"] == 0 and not meal["plausible"]
    assert cats["supermarket"]["completeness"]["plausible"]
    warning = next(w for w in chengdu.warnings if w.startswith("老年助餐点（elderly_meal）"))
    assert "--facilities 老年助餐点.xlsx::category=elderly_meal" in warning
    assert not any(w.startswith("超市") for w in chengdu.warnings)


def test_rules_per_community_need_community_boundaries(chengdu_tianjin, tianjin):
    presence = _rows(chengdu_tianjin, "childcare_per_community")
    assert list(presence["status"]) == ["not_evaluated"]
    assert "--communities" in presence["note"].iloc[0]
    coverage = _rows(chengdu_tianjin, "community_childcare_coverage_60")
    assert list(coverage["status"]) == ["not_evaluated"]
    assert len(_rows(chengdu_tianjin, "kindergarten_300m", "community")) > 100, "access judged"
    communities = SAMPLES / "社区.geojson"
    if not communities.exists():
        pytest.skip("planner samples not found: ../shared/planner-samples")
    official = analyze(need(CHENGDU), standards=tianjin, communities=communities)
    assert len(_rows(official, "childcare_per_community", "community")) > 10
    coverage = _rows(official, "community_childcare_coverage_60")
    assert set(coverage["status"]) != {"not_evaluated"}
    assert set(coverage["shortfall_unit"]) == {"communities"}  # not "communitys"


def test_outputs_say_the_basis_and_the_units(tmp_path):
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["analyze", "--osm", str(need(CHENGDU)), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "参考（OSM数据可能不完整）" in run.output and "小区/居住街坊" in run.output
    text = (out / "gaps.csv").read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert "数据依据" in header
    assert "参考（OSM数据可能不完整）" in text
    assert "\n小区/居住街坊," in text and "\n社区," not in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["units"] == "compound"
    maps = CliRunner().invoke(main, ["map", "--analysis", str(out), "--offline"])
    assert maps.exit_code == 0, maps.output
    html = next(p for p in (out / "maps").glob("*.html") if p.name != "index.html")
    page = html.read_text(encoding="utf-8")
    basis = "参考（OSM数据可能不完整）"
    assert basis in page or json.dumps(basis)[1:-1] in page  # as text or inside a JSON string


def test_unknown_authoritative_category_suggests_the_closest(tmp_path):
    args = ["analyze", "--osm", str(need(CHENGDU)), "--authoritative", "kindergarden"]
    run = CliRunner().invoke(main, [*args, "--out", str(tmp_path)])
    assert run.exit_code == 2
    assert "--authoritative “kindergarden”：未知的类别。是否是指“kindergarten”？" in run.output
    english = CliRunner().invoke(main, [*args, "--lang", "en", "--out", str(tmp_path)])
    assert "--authoritative 'kindergarden': unknown category. Did you mean 'kindergarten'?" in (
        english.output
    )


def test_notes_and_warnings_speak_the_run_language(chengdu, standards):
    """Chinese by default; English with lang="en"; the same facts either way."""
    english = analyze(need(CHENGDU), standards=standards, lang="en")
    for run, words in ((chengdu, "按全部居民计"), (english, "weighted by all residents")):
        kindergarten = run.results[run.results["rule_id"] == "kindergarten_300m"]
        assert kindergarten["note"].str.contains(words).all()
    assert any(w.startswith("老年助餐点（elderly_meal）：OSM中共0处") for w in chengdu.warnings)
    assert any(w.startswith("Elderly meal") and "OSM holds 0" in w for w in english.warnings)
    assert len(english.warnings) == len(chengdu.warnings)


def test_every_message_has_both_languages_and_every_call_gives_their_fields():
    """Each message has a Chinese and an English text; every ``say("key", ...)`` in the
    source passes every field either language uses (the language is chosen at run time)."""
    fields = string.Formatter()
    needed = {}
    for key, (zh, en) in CATALOGUE.items():
        assert zh and en and zh != en, key
        needed[key] = {f.split(".")[0] for t in (zh, en) for _, f, _, _ in fields.parse(t) if f}
    calls = 0
    for path in Path(circles.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say"):
                continue
            first = node.args[0] if node.args else None
            given = {k.arg for k in node.keywords}
            if not isinstance(first, ast.Constant) or None in given:
                continue  # a computed key, or fields passed as **mapping
            calls += 1
            missing = needed[first.value] - given
            assert not missing, f"{path.name}:{node.lineno} say({first.value!r}) lacks {missing}"
    assert calls > 300
