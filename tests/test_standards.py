"""Standards YAML: every shipped profile loads, every number is sourced, profiles inherit
(``extends``), errors name file, key, line, and ``--district`` picks the profile."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from circles.errors import StandardsError
from circles.messages import language
from circles.standards import (
    AccessRule,
    Source,
    load_standards,
    profile_for_division,
    shipped_profiles,
)

PROFILES = ["baicheng", "national", "tianjin", "xinji", "xiqing"]
LOCAL_PLACES = ("辛集", "西青", "天津", "白城", "Xinji", "Xiqing", "Tianjin", "Baicheng")

REQUIRED = {
    "elderly_meal",
    "elderly_daycare",
    "nursing_home",
    "childcare",
    "kindergarten",
    "community_health",
    "pharmacy",
    "fitness_site",
    "sports_ground",
    "convenience_store",
    "fresh_market",
    "supermarket",
    "post_parcel",
    "community_service_centre",
    "primary_school",
    "junior_middle_school",
}


def test_shipped_profiles_are_the_five():
    assert shipped_profiles() == PROFILES


def test_national_is_the_default_with_required_categories(standards):
    assert standards.profile == "national" and standards.applies_to == []
    assert set(standards.category_ids) >= REQUIRED
    for cat in standards.categories.categories:
        assert cat.name.zh and cat.name.en


def test_tianjin_has_every_rule_kind():
    assert {r.kind for r in load_standards("tianjin").rules} == {
        "access",
        "presence",
        "per_capita",
        "coverage_rate",
    }


@pytest.mark.parametrize("name", PROFILES)
def test_every_number_of_every_profile_has_a_source(name):
    standards = load_standards(name)
    for rule in standards.rules:
        assert rule.source.document and rule.source.clause, rule.id
    for profile in standards.profiles.values():
        assert profile.source.document and profile.source.clause
    pop = standards.population
    numbers = [pop.default_building_levels, pop.floor_area_per_person_m2, pop.persons_per_hectare]
    numbers += [pop.large_road_half_width_m, *standards.completeness.typical_per_10k.values()]
    for number in numbers:
        assert number.source.document and number.source.clause


def _local(rule) -> bool:
    text = f"{rule.name.zh} {rule.name.en} {rule.source.document} {rule.source.clause}"
    return any(place in text for place in LOCAL_PLACES)


def test_national_holds_no_local_rule(standards):
    assert not [r.id for r in standards.rules if _local(r)]
    documents = {r.source.document.split()[0] for r in standards.rules}
    assert documents == {"GB", "城市一刻钟便民生活圈建设指南（商务部办公厅等11部门印发,"}


def test_mofcom_pharmacy_is_8_minutes_and_cited_to_the_guide_of_11_departments(standards):
    rule = standards.rule("pharmacy_8min_adult")
    assert (rule.threshold.value, rule.threshold.unit) == (8, "min")
    assert "商务部办公厅等11部门" in rule.source.document and "2021-07-20" in rule.source.document
    assert not any("12部门" in r.source.document for r in standards.rules)


def test_local_rules_cite_their_seed_document_with_a_quote():
    seeds = {
        "tianjin": ("000_", "003_"),
        "xiqing": ("004_",),
        "xinji": ("001_",),
        "baicheng": ("002_",),
    }
    national = {r.id: r for r in load_standards("national").rules}
    for name, files in seeds.items():
        own = [r for r in load_standards(name).rules if national.get(r.id) != r]
        own = [r for r in own if name != "xiqing" or "西青" in r.source.document]
        assert own, name
        for rule in own:
            note = rule.source.note or ""
            assert note.startswith("Seed ") and "“" in note, rule.id
            assert note.split()[1].startswith(files), rule.id


def test_local_rules_stay_in_their_profile():
    xinji = {r.id: r for r in load_standards("xinji").rules}
    xiqing = {r.id: r for r in load_standards("xiqing").rules}
    assert "fitness_site_15min_adult" in xinji and "fitness_site_15min_adult" not in xiqing
    assert "elderly_daycare_15min_elderly" in xiqing
    assert "elderly_daycare_15min_elderly" not in {r.id for r in load_standards("tianjin").rules}
    assert xinji["sports_ground_area_per_resident"].target == 2.61
    assert xiqing["sports_ground_area_per_resident"].target == 2.6
    local = [r.id for r in load_standards("baicheng").rules if _local(r)]
    assert local == ["community_service_area_per_100_households"]


def test_chengdu_with_national_is_judged_by_no_local_rule(chengdu):
    assert chengdu.summary["standards"]["profile"] == "national"
    judged = set(chengdu.results["rule_id"])
    assert judged and not [r for r in judged if _local(chengdu.standards.rule(r))]
    assert not {"fitness_site_15min_adult", "elderly_daycare_15min_elderly"} & judged


def test_gb50180_kindergarten_radius_and_elderly_minutes(standards):
    kg = [r for r in standards.access_rules("kindergarten") if r.threshold.unit == "m"]
    assert kg and kg[0].threshold.value == 300
    tianjin = load_standards("tianjin")
    minutes = [r for r in tianjin.rules if isinstance(r, AccessRule) and r.threshold.unit == "min"]
    elderly = [r for r in minutes if r.threshold.profile == "elderly"]
    assert elderly
    speed = tianjin.profiles["elderly"].speed_m_s
    assert tianjin.threshold_m(elderly[0].threshold) == pytest.approx(15 * 60 * speed)


@pytest.fixture
def config_copy(tmp_path: Path, standards) -> Path:
    src = Path(standards.path)
    for f in src.parent.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / src.name


def _edit(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_unknown_key_names_file_key_and_line(config_copy: Path):
    line = _edit(config_copy, "analysis:\n", "analysis:\n  colour: red\n")
    with pytest.raises(StandardsError) as err:
        load_standards(config_copy)
    assert f"{config_copy} 第 {line + 1} 行，键 analysis.colour：未知的键“colour”" in str(err.value)


def test_wrong_type_is_reported(config_copy: Path):
    _edit(config_copy, "search_limit_m: 3000", "search_limit_m: far")
    with pytest.raises(StandardsError, match=r"键 analysis.search_limit_m：应为数值，实际为“far”"):
        load_standards(config_copy)


def test_unknown_category_and_profile_are_reported(config_copy: Path):
    _edit(config_copy, "category: kindergarten", "category: kindergarden")
    _edit(config_copy, "profile: adult}", "profile: senior}")
    with pytest.raises(StandardsError) as err:
        load_standards(config_copy)
    text = str(err.value)
    assert "未知类别“kindergarden”" in text
    assert "未知的步行速度档“senior”" in text
    assert "标准文件有 2 处问题" in text


def test_invalid_yaml_gives_line(config_copy: Path):
    _edit(config_copy, "analysis:\n", "analysis:\n  - [unclosed\n")
    with pytest.raises(StandardsError, match=r"第 \d+ 行第 \d+ 列：YAML 语法错误"):
        load_standards(config_copy)


def test_error_in_categories_file_names_that_file(config_copy: Path):
    cats = config_copy.parent / "categories.yaml"
    _edit(cats, "  - id: kindergarten\n", "  - id: kindergarten\n    colour: red\n")
    with pytest.raises(
        StandardsError, match=r"categories.yaml 第 \d+ 行，键 categories\.\d+\.colour"
    ):
        load_standards(config_copy)


def test_missing_file():
    with pytest.raises(StandardsError, match="找不到标准文件"):
        load_standards("no/such/file.yaml")


def test_osm_yes_no_values_stay_strings(standards):
    assert "yes" in standards.network.foot_allow_values
    assert "no" in standards.network.access_deny_values


def test_empty_rules_are_an_error_naming_the_line(config_copy: Path):
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text[: text.index("\nrules:\n")] + "\nrules: []\n", encoding="utf-8")
    with pytest.raises(StandardsError, match=r"第 \d+ 行，键 rules：至少应有 1 项"):
        load_standards(config_copy)


def test_infinite_threshold_is_an_error(config_copy: Path):
    _edit(
        config_copy,
        "{value: 15, unit: min, profile: adult}",
        "{value: .inf, unit: min, profile: adult}",
    )
    with pytest.raises(StandardsError, match=r"threshold\.value：应为有限的数值"):
        load_standards(config_copy)


def test_duplicate_key_is_an_error_not_a_silent_overwrite(config_copy: Path):
    _edit(config_copy, "\nrules:\n", "\nname: {zh: 重复, en: duplicate}\nrules:\n")
    with pytest.raises(StandardsError, match=r"键“name”出现了两次（第一次在第 \d+ 行）"):
        load_standards(config_copy)


# -- inheritance --------------------------------------------------------------------------

CHILD = """\
extends: {parent}
name: {{zh: 某市, en: Some city}}
analysis:
  search_limit_m: 2000
drop_rules: [fresh_market_500m]
rules:
  - id: kindergarten_300m
    kind: access
    name: {{zh: 幼儿园步行250米可达, en: Kindergarten within 250 m walk}}
    category: kindergarten
    threshold: {{value: 250, unit: m}}
    source: {{document: 某市规划, clause: 第1条}}
  - id: library_per_street
    kind: presence
    name: {{zh: 一街道一书吧, en: One reading room per street}}
    category: {category}
    unit: street
    source: {{document: 某市规划, clause: 第2条}}
"""


def _write(path: Path, parent: str = "national", category: str = "community_service_centre"):
    path.write_text(CHILD.format(parent=parent, category=category), encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    body = path.read_text(encoding="utf-8")
    return body[: body.index(text)].count("\n") + 1


def test_child_merges_replaces_drops_and_adds(tmp_path: Path, standards):
    child = load_standards(_write(tmp_path / "city.yaml"))
    ids = [r.id for r in child.rules]
    national = [r.id for r in standards.rules]
    assert ids == [i for i in national if i != "fresh_market_500m"] + ["library_per_street"]
    assert child.rule("kindergarten_300m").threshold.value == 250  # replaced in place
    assert child.analysis.search_limit_m == 2000
    assert child.analysis.far_connector_m == standards.analysis.far_connector_m  # inherited
    assert child.profiles == standards.profiles and child.name.zh == "某市"
    assert child.profile == "city"
    assert [Path(f).name for f in child.files] == ["national.yaml", "categories.yaml", "city.yaml"]


def test_chain_of_files_extending_a_shipped_local_profile(tmp_path: Path):
    (tmp_path / "base").mkdir()
    _write(tmp_path / "base" / "district.yaml", parent="xiqing")
    leaf = tmp_path / "street.yaml"
    leaf.write_text("extends: base/district.yaml\nname: {zh: 街道, en: Street}\n", "utf-8")
    loaded = load_standards(leaf)
    ids = [r.id for r in loaded.rules]
    assert "elderly_daycare_15min_elderly" in ids and "library_per_street" in ids
    assert loaded.applies_to == ["120111"]  # inherited from xiqing
    names = [Path(f).name for f in loaded.files]
    assert names[-4:] == ["tianjin.yaml", "xiqing.yaml", "district.yaml", "street.yaml"]


def test_error_in_a_child_rule_names_the_child_file_and_line(tmp_path: Path):
    child = _write(tmp_path / "city.yaml", category="no_such_category")
    with pytest.raises(StandardsError) as err:
        load_standards(child)
    line = _line(child, "    category: no_such_category")
    expected = f"{child} 第 {line} 行，键 rules.1.category：未知类别“no_such_category”"
    assert expected in str(err.value)


def test_rule_missing_a_required_field_names_its_line(tmp_path: Path):
    child = tmp_path / "city.yaml"
    child.write_text(
        "extends: national\nrules:\n  - id: service_area_per_households\n    kind: per_capita\n"
        "    name: {zh: 每百户30平方米, en: 30 m2 per 100 households}\n"
        "    category: community_service_centre\n    per: 100\n    target: 30\n"
        "    source: {document: 行动方案, clause: 4.}\n",
        encoding="utf-8",
    )
    with pytest.raises(StandardsError) as err:
        load_standards(child)
    assert f"{child} 第 3 行，键 rules.0.attribute：缺少键“attribute”" in str(err.value)


def test_extends_cycle_names_file_and_line(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("name: {zh: 甲, en: A}\nextends: b.yaml\n", "utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n", "utf-8")
    with pytest.raises(StandardsError) as err:
        load_standards(tmp_path / "a.yaml")
    text = str(err.value)
    assert f"{tmp_path / 'b.yaml'} 第 1 行，键 extends" in text
    assert "“extends”形成循环（a.yaml -> b.yaml -> a.yaml）" in text


def test_unknown_parent_names_file_line_and_closest_profile(tmp_path: Path):
    child = tmp_path / "city.yaml"
    child.write_text("name: {zh: 某市, en: Some city}\nextends: xiqin\n", encoding="utf-8")
    with pytest.raises(StandardsError) as err:
        load_standards(child)
    text = str(err.value)
    assert f"{child} 第 2 行，键 extends：未知的上级标准“xiqin”" in text
    assert "是否指“xiqing”？" in text


def test_dropping_a_rule_that_is_not_inherited_is_an_error(tmp_path: Path):
    child = tmp_path / "city.yaml"
    child.write_text("extends: national\ndrop_rules: [kindergarten_300m, nope]\n", "utf-8")
    with pytest.raises(
        StandardsError, match=r"city.yaml 第 2 行，键 drop_rules.1：没有可删除的继承规则“nope”"
    ):
        load_standards(child)


def test_dropping_a_rule_another_one_counts_names_the_counting_rule(tmp_path: Path):
    child = tmp_path / "city.yaml"
    child.write_text("extends: tianjin\ndrop_rules: [childcare_per_community]\n", "utf-8")
    with pytest.raises(StandardsError) as err:
        load_standards(child)
    assert "tianjin.yaml 第" in str(err.value)
    assert "未知规则“childcare_per_community”" in str(err.value)


def test_unknown_profile_name_suggests_the_closest():
    with pytest.raises(StandardsError, match=r"未知标准“tianjn”。是否指“tianjin”？"):
        load_standards("tianjn")


@pytest.mark.parametrize(
    ("code", "profile"),
    [
        ("120111", "xiqing"),  # 西青区
        ("120104", "tianjin"),  # 南开区
        ("130181", "xinji"),
        ("220800", "baicheng"),
        ("220882", "baicheng"),  # 大安市, a county-level city of Baicheng
        ("510106", "national"),  # 成都市金牛区
        ("130104", "national"),  # 石家庄市桥西区: Xinji's profile is for Xinji only
    ],
)
def test_district_picks_the_most_specific_profile(code, profile):
    assert profile_for_division(code).profile == profile


def _given(district: str):
    from circles.pipeline import read_planner_inputs

    return read_planner_inputs(None, district, None, (), None, None, "wgs84")


def test_district_without_standards_chooses_and_logs_its_profile(caplog):
    from circles.pipeline import choose_standards

    given = _given("西青区")
    with caplog.at_level("INFO", logger="circles.pipeline"):
        chosen = choose_standards(None, given, "zh")
    assert chosen.profile == "xiqing" and given.standards_chosen_by == "district"
    assert "按所选区县选用标准：天津市西青区（xiqing）" in caplog.text
    assert not given.problems.warnings


def test_profile_outside_its_district_is_a_warning_naming_the_one_that_fits():
    from circles.pipeline import choose_standards

    given = _given("西青区")
    assert choose_standards("tianjin", given, "en").profile == "tianjin"
    assert not given.problems.warnings  # Tianjin's profile covers every district of Tianjin
    assert choose_standards("xinji", given, "en").profile == "xinji"
    (warning,) = given.problems.warnings
    assert "xinji is not written for 天津市西青区" in str(warning)
    assert "--standards xiqing" in str(warning)


def test_wrong_type_in_a_child_setting_names_the_child(tmp_path: Path):
    child = tmp_path / "city.yaml"
    child.write_text("extends: national\nprofiles:\n  adult:\n    speed_m_s: fast\n", "utf-8")
    with pytest.raises(StandardsError) as err:
        load_standards(child)
    assert f"{child} 第 4 行，键 profiles.adult.speed_m_s：" in str(err.value)
    assert "实际为“fast”" in str(err.value)


# -- the language of errors -----------------------------------------------------------------

RULE = "rules:\n  - {{id: x, name: {{zh: 甲, en: x}}, source: {{document: d, clause: c}}, {}}}\n"
BAD_PROFILES = {
    "unknown key": "extends: national\nanalysis:\n  colour: red\n",
    "not a number": "extends: national\nprofiles:\n  adult:\n    speed_m_s: fast\n",
    "unknown parent": "extends: xiqin\n",
    "cycle": "extends: std.yaml\n",
    "nothing to drop": "extends: national\ndrop_rules: [nope]\n",
    "key twice": "extends: national\nname: {zh: 甲, en: A}\nname: {zh: 乙, en: B}\n",
    "not a mapping": "- extends\n- national\n",
    "no rules": "name: {zh: 甲, en: A}\nrules: []\n",
    "unknown category": "extends: national\n"
    + RULE.format("kind: presence, category: nope, unit: community"),
    "minutes without profile": "extends: national\n"
    + RULE.format("kind: access, category: kindergarten, threshold: {value: 5, unit: min}"),
    "unit not allowed": "extends: national\n"
    + RULE.format("kind: access, category: kindergarten, threshold: {value: 5, unit: m}, unit: x"),
    "households per district": "extends: national\n"
    + RULE.format(
        "kind: per_capita, category: kindergarten, attribute: count, per: 100, target: 1, "
        "of: households, unit: district"
    ),
}
# words a message may quote: what the planner wrote, profile and category ids, option names
QUOTED = {"YAML", "yaml", "profile", "adult", "elderly", "unit", "community", "access"}


def english_left(text: str, allowed: set[str]) -> list[str]:
    """Runs of 3+ ASCII letters in ``text`` that are not one of ``allowed``, nor in a file
    name, a key path, an option name or a quoted id (“profiles”, 'community')."""
    text = re.sub(r"\S*/\S*|[\w.]+\.ya?ml|--[\w-]+|'[^']*'|“[\w.]+”|键 [\w.]+", " ", text)
    return [w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in allowed]


@pytest.mark.parametrize("case", BAD_PROFILES)
def test_profile_errors_are_in_chinese(tmp_path: Path, standards, case):
    text = BAD_PROFILES[case]
    bad = tmp_path / "std.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(StandardsError) as err:
        load_standards(bad)
    message = str(err.value)
    allowed = QUOTED | set(re.findall(r"[A-Za-z_]+", text)) | set(standards.category_ids)
    assert english_left(message, allowed | set(shipped_profiles())) == [], message
    assert "：" in message


def test_unknown_or_missing_profile_is_said_in_chinese():
    for spec in ("tianjn", "no/such/file.yaml"):
        with pytest.raises(StandardsError) as err:
            load_standards(spec)
        assert english_left(str(err.value), {"tianjn", *shipped_profiles(), "YAML"}) == []


def test_profile_errors_keep_their_english_wording(tmp_path: Path):
    expected = {
        "unknown key": "std.yaml line 3, key analysis.colour: unknown key 'colour'",
        "not a number": "key profiles.adult.speed_m_s: Input should be a valid number, unable "
        "to parse string as a number, got 'fast'",
        "unknown parent": "key extends: unknown parent profile 'xiqin'. Did you mean 'xiqing'? "
        "Give a shipped profile (",
        "cycle": "key extends: 'extends' makes a cycle (std.yaml -> std.yaml); remove one.",
        "key twice": "invalid YAML (key 'name' appears twice (first on line 2); keep one)",
        "minutes without profile": "Value error, a threshold in minutes needs a 'profile' "
        "(e.g. adult, elderly)",
        "households per district": "key rules.0.unit: a rule per households needs unit: "
        "community (households are known per community, from the communities file)",
    }
    bad = tmp_path / "std.yaml"
    for case, wording in expected.items():
        bad.write_text(BAD_PROFILES[case], encoding="utf-8")
        with language("en"), pytest.raises(StandardsError) as err:
            load_standards(bad)
        assert wording in str(err.value), str(err.value)
    with language("en"), pytest.raises(StandardsError, match=r"^invalid standards file:\n  "):
        load_standards(bad)
    with language("en"), pytest.raises(StandardsError, match="unknown standards profile 'tianjn'"):
        load_standards("tianjn")


def test_an_unchecked_source_is_flagged_in_the_run_language():
    source = Source(document="GB 50180-2018", clause="表5.0.1", year=2018, verify=True)
    assert source.cite() == "GB 50180-2018, 表5.0.1 (2018)［待核实］"
    with language("en"):
        assert source.cite() == "GB 50180-2018, 表5.0.1 (2018) [待核实 verify]"
