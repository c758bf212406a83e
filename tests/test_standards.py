"""Standards YAML: the default loads, every number is sourced, errors name file, key, line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from circles.errors import StandardsError
from circles.standards import AccessRule, load_standards

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


def test_default_profile_has_required_categories_and_all_rule_kinds(standards):
    assert set(standards.category_ids) >= REQUIRED
    assert {r.kind for r in standards.rules} == {
        "access",
        "presence",
        "per_capita",
        "coverage_rate",
    }
    for cat in standards.categories.categories:
        assert cat.name.zh and cat.name.en


def test_every_number_has_a_source(standards):
    for rule in standards.rules:
        assert rule.source.document and rule.source.clause, rule.id
    for profile in standards.profiles.values():
        assert profile.source.document and profile.source.clause
    pop = standards.population
    for number in (
        pop.default_building_levels,
        pop.floor_area_per_person_m2,
        pop.persons_per_hectare,
    ):
        assert number.source.document and number.source.clause


def test_gb50180_kindergarten_radius_and_elderly_minutes(standards):
    kg = [r for r in standards.access_rules("kindergarten") if r.threshold.unit == "m"]
    assert kg and kg[0].threshold.value == 300
    minutes = [
        r for r in standards.rules if isinstance(r, AccessRule) and r.threshold.unit == "min"
    ]
    elderly = [r for r in minutes if r.threshold.profile == "elderly"]
    assert elderly
    speed = standards.profiles["elderly"].speed_m_s
    assert standards.threshold_m(elderly[0].threshold) == pytest.approx(15 * 60 * speed)


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
    assert f"{config_copy} line {line + 1}, key analysis.colour: unknown key 'colour'" in str(
        err.value
    )


def test_wrong_type_is_reported(config_copy: Path):
    _edit(config_copy, "search_limit_m: 3000", "search_limit_m: far")
    with pytest.raises(StandardsError, match=r"key analysis.search_limit_m: .*got 'far'"):
        load_standards(config_copy)


def test_unknown_category_and_profile_are_reported(config_copy: Path):
    _edit(config_copy, "category: kindergarten", "category: kindergarden")
    _edit(config_copy, "profile: elderly", "profile: senior")
    with pytest.raises(StandardsError) as err:
        load_standards(config_copy)
    text = str(err.value)
    assert "unknown category 'kindergarden'" in text
    assert "unknown profile 'senior'" in text
    assert "2 problems" in text


def test_invalid_yaml_gives_line(config_copy: Path):
    _edit(config_copy, "analysis:\n", "analysis:\n  - [unclosed\n")
    with pytest.raises(StandardsError, match=r"line \d+, column \d+: invalid YAML"):
        load_standards(config_copy)


def test_error_in_categories_file_names_that_file(config_copy: Path):
    cats = config_copy.parent / "categories.yaml"
    _edit(cats, "  - id: kindergarten\n", "  - id: kindergarten\n    colour: red\n")
    with pytest.raises(
        StandardsError, match=r"categories.yaml line \d+, key categories\.\d+\.colour"
    ):
        load_standards(config_copy)


def test_missing_file():
    with pytest.raises(StandardsError, match="standards file not found"):
        load_standards("no/such/file.yaml")


def test_osm_yes_no_values_stay_strings(standards):
    assert "yes" in standards.network.foot_allow_values
    assert "no" in standards.network.access_deny_values


def test_empty_rules_are_an_error_naming_the_line(config_copy: Path):
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text[: text.index("\nrules:\n")] + "\nrules: []\n", encoding="utf-8")
    with pytest.raises(StandardsError, match=r"line \d+, key rules: List should have at least 1"):
        load_standards(config_copy)


def test_infinite_threshold_is_an_error(config_copy: Path):
    _edit(
        config_copy,
        "{value: 15, unit: min, profile: elderly}",
        "{value: .inf, unit: min, profile: elderly}",
    )
    with pytest.raises(StandardsError, match=r"threshold\.value: Input should be a finite number"):
        load_standards(config_copy)


def test_duplicate_key_is_an_error_not_a_silent_overwrite(config_copy: Path):
    _edit(config_copy, "\nrules:\n", "\nname: {zh: 重复, en: duplicate}\nrules:\n")
    with pytest.raises(StandardsError, match=r"key 'name' appears twice \(first on line \d+\)"):
        load_standards(config_copy)
