"""Load and validate configs/*.yaml: standards profiles (with ``extends``), categories,
walking-speed profiles, rules with citations."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from circles.errors import StandardsError
from circles.messages import CATALOGUE, current_language, label, say

Lang = Literal["zh", "en"]
UNIT_LEVELS = ("community", "village", "street", "district")
DEFAULT_PROFILE = "adult"  # the speed of thresholds given in metres, when shown as minutes
NATIONAL = "national"  # the shipped baseline standards profile, the default
# a GB/T 2260 code or its prefix: 12 (a province), 2208 (a city), 120111 (a district)
DivisionCode = Annotated[str, BeforeValidator(str), Field(pattern=r"^\d{2}(\d{2}){0,2}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Source(_Strict):
    """Where a number comes from: document, clause and year; ``verify`` marks unchecked values."""

    document: str
    clause: str
    year: int | None = None
    verify: bool = False
    note: str | None = None

    def cite(self) -> str:
        """Return a one-line citation such as ``GB 50180-2018, 表5.0.1 (2018)``."""
        year = f" ({self.year})" if self.year else ""
        flag = say("src_verify_flag") if self.verify else ""
        return f"{self.document}, {self.clause}{year}{flag}"


class Names(_Strict):
    """A display name in Chinese and English."""

    zh: str
    en: str

    def __call__(self, lang: Lang) -> str:
        """The name in ``zh`` or ``en``."""
        return self.zh if lang == "zh" else self.en


class Sourced(_Strict):
    """A number with its source."""

    value: float = Field(gt=0)
    source: Source


class Profile(_Strict):
    """A walking-speed profile (adult, elderly, child with carer)."""

    name: Names
    speed_m_s: float = Field(gt=0, le=3)
    source: Source


TagValue = str | list[str] | bool


class Category(_Strict):
    """A facility category: how to find it in OSM (tags, name keywords) and its display names."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Names
    symbol: str = Field(default="", max_length=2)
    tags: list[dict[str, TagValue]] = Field(default_factory=list)
    name_keywords: list[str] = Field(default_factory=list)
    name_exclude: list[str] = Field(default_factory=list)
    # a feature matching any of these selectors is not of this category (golf pitches)
    tags_exclude: list[dict[str, TagValue]] = Field(default_factory=list)
    tags_only_keys: list[str] = Field(default_factory=list)  # present: the name is not used
    capacity_tags: list[str] = Field(default_factory=list)
    area_from_geometry: bool = False
    aliases: list[str] = Field(default_factory=list)  # other names in planners' files

    @model_validator(mode="after")
    def _has_selector(self) -> Category:
        if not self.tags and not self.name_keywords:
            raise ValueError(say("src_category_selector"))
        return self


class CategoryFile(_Strict):
    """The categories file: the categories and the tags that disqualify a name match."""

    name_match_ignore_keys: list[str] = Field(default_factory=list)
    name_match_area_keys: list[str] = Field(default_factory=list)
    categories: list[Category]

    @model_validator(mode="after")
    def _labels_unique(self) -> CategoryFile:
        """A name or alias read from a planner's file must point to one category."""
        owner: dict[str, str] = {}
        for cat in self.categories:
            for text in {cat.id, cat.name.zh, cat.name.en.lower(), *cat.aliases}:
                if owner.setdefault(text, cat.id) != cat.id:
                    msg = say("src_label_twice", text=text, first=owner[text], second=cat.id)
                    raise ValueError(msg)
        return self


class Threshold(_Strict):
    """A walking threshold in metres, or in minutes at a speed profile."""

    value: float = Field(gt=0)
    unit: Literal["m", "min"]
    profile: str | None = None

    @model_validator(mode="after")
    def _profile_for_minutes(self) -> Threshold:
        if self.unit == "min" and self.profile is None:
            raise ValueError(say("src_minutes_profile"))
        if self.unit == "m" and self.profile is not None:
            raise ValueError(say("src_metres_no_profile"))
        return self


class _Rule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Names
    source: Source


class AccessRule(_Rule):
    """Walking access: a share of the unit's population lives within the threshold."""

    kind: Literal["access"]
    category: str
    threshold: Threshold
    target_share: float = Field(default=1.0, gt=0, le=1)
    unit: Literal["community", "district"] = "community"
    population: Literal["total", "elderly", "children"] = "total"  # whose homes are counted


class PresenceRule(_Rule):
    """Presence per unit: each community / village / street / district holds ``min_count``
    facilities."""

    kind: Literal["presence"]
    category: str
    unit: Literal["community", "village", "street", "district"]
    min_count: int = Field(default=1, ge=1)


class PerCapitaRule(_Rule):
    """Per-capita supply: the sum of a facility attribute per ``per`` residents (or households,
    ``of: households``) reaches ``target``.

    ``attribute`` is ``capacity`` (places), ``area_m2`` (site area, OSM polygons or the
    planner's), ``floor_area_m2`` (building floor area, planner's files only) or ``count``
    (each facility counts 1).
    """

    kind: Literal["per_capita"]
    category: str
    attribute: Literal["capacity", "area_m2", "floor_area_m2", "count"]
    per: float = Field(gt=0)
    target: float = Field(gt=0)
    of: Literal["residents", "households"] = "residents"
    unit: Literal["community", "street", "district"] = "district"


class CoverageRateRule(_Rule):
    """Coverage rate: the share of units (or residents) passing ``of_rule`` reaches ``target``;
    the units are communities or villages (``over``), the level ``of_rule`` is judged on."""

    kind: Literal["coverage_rate"]
    of_rule: str
    over: Literal["community", "village"] = "community"
    measure: Literal["units", "population"]
    target: float = Field(gt=0, le=1)
    unit: Literal["district"] = "district"


AnyRule = AccessRule | PresenceRule | PerCapitaRule | CoverageRateRule
Rule = Annotated[
    AccessRule | PresenceRule | PerCapitaRule | CoverageRateRule, Field(discriminator="kind")
]


class NetworkSettings(_Strict):
    """Which OSM ways are walkable."""

    highway_include: list[str]
    highway_need_foot_access: list[str]
    sidewalk_values: list[str]
    foot_allow_values: list[str]
    access_deny_values: list[str]
    # foot= values that forbid walking whatever else the way says
    foot_deny_values: list[str] = Field(default_factory=lambda: ["no"])
    # highways walkable despite access=private (compound roads: residents walk them)
    private_walkable_highways: list[str] = Field(default_factory=list)


class PopulationSettings(_Strict):
    """How population is estimated when the planner gives none."""

    default_building_levels: Sourced
    floor_area_per_person_m2: Sourced
    persons_per_hectare: Sourced
    residential_building_values: list[str]
    min_building_coverage: float = Field(gt=0, le=1)
    grid_spacing_m: float = Field(gt=0)
    # outside residential land only buildings typed as homes count (building=yes does not)
    home_building_values: list[str] = Field(
        default=["residential", "apartments", "house", "detached", "dormitory", "terrace"]
    )
    cluster_gap_m: float = Field(default=30, gt=0)  # homes this close form one unit
    max_home_footprint_m2: float = Field(default=5000, gt=0)  # larger: a compound outline
    # where no one lives: areas with these tag values, and large roads grown by a half width
    uninhabited_tags: dict[str, list[str]] = Field(default_factory=dict)
    large_road_values: list[str] = Field(default_factory=list)
    # lines where no one lives (railways, rivers mapped only as a line), unless underground,
    # grown by a half width
    uninhabited_lines: dict[str, list[str]] = Field(default_factory=dict)
    uninhabited_line_half_width_m: float = Field(default=10, ge=0)
    large_road_half_width_m: Sourced | None = None
    # --population this many times away from the estimate: a warning, an error
    calibration_warn_ratio: float = Field(default=3, gt=1)
    calibration_error_ratio: float = Field(default=10, gt=1)


class AnalysisSettings(_Strict):
    """Tool settings that are not standards (search horizon, warnings)."""

    search_limit_m: float = Field(gt=0)
    far_connector_m: float = Field(gt=0)
    # a planner record and an OSM feature of one category this close, with names this similar
    # (difflib ratio), are the same facility
    merge_distance_m: float = Field(default=100, gt=0)
    merge_name_similarity: float = Field(default=0.5, ge=0, le=1)
    # categories whose OSM data the planner has checked: a gap in them is a real gap
    authoritative: list[str] = Field(default_factory=list)
    # a home, point facility or proposed site joins every street (OSM way) within this much of
    # its nearest one, at most attach_max_streets of them; an area facility joins at its
    # mapped entrances (each as a point), else from its outline, at most
    # attach_area_max_streets streets. 0 and 1: the nearest street only.
    attach_extra_m: float = Field(default=0.0, ge=0, le=500)
    attach_max_streets: int = Field(default=1, ge=1, le=32)
    attach_area_max_streets: int = Field(default=1, ge=1, le=64)
    # an area without mapped entrances also joins along its frontage: points this far apart on
    # its outline join their nearest street (within attach_extra_m of its nearest); 0: off
    attach_frontage_m: float = Field(default=0.0, ge=0)
    # a home and a facility (or proposed site) at most this far apart whose straight line
    # crosses no mapped street also walk straight across the block, as connectors do; 0: off
    attach_across_m: float = Field(default=300.0, ge=0, le=3000)


class Completeness(_Strict):
    """How complete OSM looks per category: facilities per 10,000 residents against the least
    a complete map would hold (``typical_per_10k``, cited), flagged below ``min_share`` of it."""

    min_share: float = Field(default=0.5, gt=0, le=1)
    typical_per_10k: dict[str, Sourced] = Field(default_factory=dict)


class Standards(_Strict):
    """A whole standards profile: categories, speed profiles, rules and settings, with every
    profile it ``extends`` merged in."""

    name: Names
    description: str = ""
    # administrative divisions the profile is written for (GB/T 2260 codes; a code ending in
    # 00 or 0000 covers every division under it); empty: anywhere
    applies_to: list[DivisionCode] = Field(default_factory=list)
    profiles: dict[str, Profile]
    network: NetworkSettings
    population: PopulationSettings
    analysis: AnalysisSettings
    categories: CategoryFile
    rules: list[Rule] = Field(min_length=1)
    completeness: Completeness = Field(default_factory=Completeness)
    path: str = ""
    profile: str = ""  # the profile's name: its file name without .yaml (national, xiqing…)
    files: list[str] = Field(default_factory=list)  # every file read, the root profile first

    # -- look-ups ---------------------------------------------------------
    def match(self, code: str) -> int | None:
        """How specifically the profile applies to a division code: the digits of its longest
        matching code prefix, 0 for a profile for anywhere, ``None`` when it does not apply."""
        if not self.applies_to:
            return 0
        prefixes = [_code_prefix(c) for c in self.applies_to]
        return max((len(p) for p in prefixes if str(code).startswith(p)), default=None)

    def category(self, category_id: str) -> Category:
        """Return the category with this id."""
        for cat in self.categories.categories:
            if cat.id == category_id:
                return cat
        known = say("src_sep").join(self.category_ids)
        raise StandardsError(say("src_unknown_category_known", id=category_id, known=known))

    @property
    def category_ids(self) -> list[str]:
        """Ids of all categories, in file order."""
        return [c.id for c in self.categories.categories]

    def rule(self, rule_id: str) -> AccessRule | PresenceRule | PerCapitaRule | CoverageRateRule:
        """Return the rule with this id."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise StandardsError(say("src_unknown_rule", id=rule_id))

    # -- walking speed and distance: minutes become metres here and nowhere else ----
    def speed_m_s(self, profile: str | None = None) -> float:
        """Walking speed of a profile; ``None`` (a threshold in metres) walks at adult speed."""
        return self.profiles[profile or DEFAULT_PROFILE].speed_m_s

    def minutes_to_m(self, minutes: float, profile: str | None = None) -> float:
        """Walking distance in metres covered in ``minutes`` at a profile's speed."""
        return minutes * 60.0 * self.speed_m_s(profile)

    def m_to_minutes(self, metres: float | np.ndarray, profile: str | None = None) -> object:
        """Walking time in minutes of ``metres`` at a profile's speed (arrays allowed)."""
        return metres / self.speed_m_s(profile) / 60.0

    def threshold_m(self, threshold: Threshold | AccessRule) -> float:
        """Walking distance in metres of a threshold or an access rule's threshold."""
        if isinstance(threshold, AccessRule):
            threshold = threshold.threshold
        if threshold.unit == "m":
            return threshold.value
        return self.minutes_to_m(threshold.value, threshold.profile)

    def category_profile(self, category_id: str) -> str:
        """Speed profile of a category's walking times and service areas: the profile of its
        first access rule in minutes, else adult."""
        rules = self.access_rules(category_id)
        return next((r.threshold.profile for r in rules if r.threshold.profile), DEFAULT_PROFILE)

    def access_rules(self, category_id: str | None = None) -> list[AccessRule]:
        """Access rules, optionally of one category."""
        return [
            r for r in self.rules if isinstance(r, AccessRule) and category_id in (None, r.category)
        ]

    def main_access_rule(self, category_id: str) -> AccessRule | None:
        """A category's main walking-access rule, its first: what its maps are graded and
        its units ranked by; ``None`` without one."""
        rules = self.access_rules(category_id)
        return rules[0] if rules else None

    def category_of(
        self, rule: AccessRule | PresenceRule | PerCapitaRule | CoverageRateRule
    ) -> str:
        """The facility category a rule judges (a coverage rate: that of the rule it counts)."""
        if isinstance(rule, CoverageRateRule):
            return self.category_of(self.rule(rule.of_rule))
        return rule.category

    def rules_of(
        self, category_id: str
    ) -> list[AccessRule | PresenceRule | PerCapitaRule | CoverageRateRule]:
        """Every rule judging a category, in file order."""
        return [r for r in self.rules if self.category_of(r) == category_id]

    def search_limit_m(self, category_id: str) -> float:
        """Search horizon of a category: the configured limit, never below its largest threshold."""
        thresholds = [self.threshold_m(r.threshold) for r in self.access_rules(category_id)]
        return max([self.analysis.search_limit_m, *thresholds])


# ---------------------------------------------------------------------------
# Loading with line numbers
# ---------------------------------------------------------------------------


def configs_dir() -> Path:
    """The folder of the shipped profiles and ``categories.yaml``."""
    packaged = resources.files("circles") / "configs"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "configs"


def shipped_profiles() -> list[str]:
    """Names of the shipped standards profiles (national, tianjin, xiqing…)."""
    return sorted(p.stem for p in configs_dir().glob("*.yaml") if p.stem != "categories")


def profile_path(spec: str | Path | None = None) -> Path:
    """The file of a standards profile: a shipped profile's name, or a YAML file.

    Raises
    ------
    StandardsError
        A name that is neither a shipped profile nor a file, with the closest shipped name.
    """
    text = NATIONAL if spec is None else str(spec)
    if text in shipped_profiles():
        return configs_dir() / f"{text}.yaml"
    path = Path(text).expanduser()
    if path.exists() or path.suffix in {".yaml", ".yml"} or len(path.parts) > 1:
        return path
    raise StandardsError(_unknown_profile(text))


def _unknown_profile(name: str) -> str:
    names = shipped_profiles()
    return say(
        "src_unknown_standards",
        name=name,
        hint=_hint(name, names),
        names=say("src_sep").join(names),
    )


def _hint(name: str, names: list[str]) -> str:
    """``Did you mean 'xiqing'?`` for the closest of ``names``, or nothing."""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return say("src_did_you_mean", name=close[0]) if close else ""


def _code_prefix(code: str) -> str:
    """The digits a division code stands for: 120000 -> 12, 220800 -> 2208, 120111 -> 120111."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def profile_for_division(code: str) -> Standards:
    """The shipped profile written most specifically for a division (GB/T 2260 code): its
    ``applies_to`` holds the code or the longest prefix of it; national when none does."""
    scored = [(s.match(code), s) for s in map(load_standards, shipped_profiles())]
    applying = [(m, s) for m, s in scored if m is not None]
    return max(applying, key=lambda pair: pair[0])[1]


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so OSM values like ``yes`` and ``no`` stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _unique_keys(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping whose keys are all different: a repeated key is an error, not a silent
    overwrite by the second."""
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                say("src_key_twice", name=key, line=seen[key]),
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_keys)


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StandardsError(say("src_standards_not_found", path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StandardsError(say("src_standards_unreadable", path=path, error=exc)) from None
    try:
        return yaml.load(text, Loader=_Loader), yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = say("src_yaml_where", line=mark.line + 1, column=mark.column + 1) if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = say("src_yaml_invalid", path=path, where=where, problem=problem)
        raise StandardsError(msg) from None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at ``loc``, or of its deepest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == key), None)
            if found is None:
                return line
            key_node, node = found
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe(error: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    # pydantic puts the union member (e.g. 'access') into loc; drop it for key paths
    loc = tuple(
        p for p in error["loc"] if p not in {"access", "presence", "per_capita", "coverage_rate"}
    )
    if error["type"] == "extra_forbidden":
        return loc, say("src_unknown_key", name=loc[-1])
    if error["type"] == "missing":
        return loc, say("src_missing_key", name=loc[-1])
    got = error.get("input")
    got_text = "" if isinstance(got, dict | list) else say("src_got", got=got)
    return loc, _pydantic_text(error) + got_text


def _pydantic_text(error: dict[str, Any]) -> str:
    """Pydantic's complaint in the run's language (in English, pydantic's own words)."""
    ctx = {
        k: f"{v:g}" if isinstance(v, int | float) else str(v)
        for k, v in error.get("ctx", {}).items()
    }
    for k in ("expected", "expected_tags", "discriminator"):  # "'m' or 'min'" -> “m”、“min”
        if k in ctx and current_language() == "zh":
            ctx[k] = "、".join(f"“{v.strip(chr(39))}”" for v in re.split(r", | or ", ctx[k]))
    key = f"src_pyd_{error['type']}"
    key = key if key in CATALOGUE else "src_pyd_other"
    return say(key, **{**ctx, "msg": error["msg"]})


@dataclass
class _Layer:
    """One file of a profile's ``extends`` chain, as read, with its categories file."""

    path: Path
    data: dict
    tree: yaml.Node | None
    categories: tuple[Path, yaml.Node | None] | None = None  # when ``categories: FILE``

    def where(self, loc: tuple[Any, ...]) -> str:
        """``FILE line N, key a.b``: where the key at ``loc`` (or its parent) is written."""
        key = ".".join(map(str, loc))
        if loc[:1] == ("categories",) and self.categories is not None:
            path, tree = self.categories
            sub = loc[1:]
            return say(
                "src_at_key", path=path, line=_line_of(tree, sub), name=".".join(map(str, sub))
            )
        return say("src_at_key", path=self.path, line=_line_of(self.tree, loc), name=key)


def _type_name(value: object) -> str:
    """The YAML kind of a value as a planner reads it (list, text, number…)."""
    name = type(value).__name__
    key = f"src_type_{name}"
    return say(key) if key in CATALOGUE else name


def _read_layer(path: Path) -> _Layer:
    data, tree = _read_yaml(path)
    if not isinstance(data, dict):
        raise StandardsError(say("src_top_mapping", path=path, type=_type_name(data)))
    layer = _Layer(path.resolve(), data, tree)
    for key in ("rules", "drop_rules"):
        if key in data and not isinstance(data[key], list):
            got = _type_name(data[key])
            raise StandardsError(say("src_expected_list", where=layer.where((key,)), type=got))
    if isinstance(data.get("categories"), str):
        cat_path = (path.parent / data["categories"]).resolve()
        cat_data, cat_tree = _read_yaml(cat_path)
        layer.data = {**data, "categories": cat_data}
        layer.categories = (cat_path, cat_tree)
    return layer


def _read_chain(path: Path) -> list[_Layer]:
    """The profile at ``path`` and every profile it extends, the root first."""
    chain = [_read_layer(path)]
    while "extends" in chain[-1].data:
        child = chain[-1]
        parent, where = child.data["extends"], child.where(("extends",))
        parent_path = _parent_path(parent, child.path, where)
        seen = [layer.path for layer in chain]
        if parent_path in seen:
            loop = " -> ".join(p.name for p in [*seen[seen.index(parent_path) :], parent_path])
            raise StandardsError(say("src_extends_cycle", where=where, loop=loop))
        chain.append(_read_layer(parent_path))
    return chain[::-1]


def _parent_path(parent: object, child: Path, where: str) -> Path:
    """The file ``extends: parent`` names: a shipped profile, or a path beside ``child``."""
    if isinstance(parent, str) and parent in shipped_profiles():
        return (configs_dir() / f"{parent}.yaml").resolve()
    path = child.parent / str(parent)
    if isinstance(parent, str) and parent and path.is_file():
        return path.resolve()
    names = shipped_profiles()
    hint = _hint(str(parent), names)
    msg = say(
        "src_unknown_parent",
        where=where,
        parent=parent,
        hint=hint,
        names=say("src_sep").join(names),
        child=child.name,
    )
    raise StandardsError(msg)


def _deep_merge(parent: dict, child: dict) -> dict:
    """``parent`` updated by ``child``: mappings merge key by key, anything else is replaced."""
    merged = dict(parent)
    for key, value in child.items():
        old = merged.get(key)
        both = isinstance(old, dict) and isinstance(value, dict)
        merged[key] = _deep_merge(old, value) if both else value
    return merged


def _merge(chain: list[_Layer]) -> tuple[dict, list[tuple[int, int]]]:
    """The chain merged: settings child-wins, rules the parent's then the child's (a child rule
    with a parent rule's id replaces it, ``drop_rules`` removes inherited ones). Also, for
    each merged rule, the (file, position) it was written at."""
    merged: dict = {}
    rules: list[Any] = []
    origin: list[tuple[int, int]] = []
    for i, layer in enumerate(chain):
        own = {k: v for k, v in layer.data.items() if k not in {"extends", "drop_rules", "rules"}}
        merged = _deep_merge(merged, own)
        ids = [r.get("id") if isinstance(r, dict) else None for r in rules]
        for j, rule_id in enumerate(layer.data.get("drop_rules", [])):
            if rule_id not in ids:
                where = layer.where(("drop_rules", j))
                raise StandardsError(say("src_nothing_to_drop", where=where, id=rule_id))
            k = ids.index(rule_id)
            del rules[k], origin[k], ids[k]
        inherited = ids[:]  # a repeated id within one file stays a duplicate (an error)
        for j, rule in enumerate(layer.data.get("rules", [])):
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            if rule_id is not None and rule_id in inherited:
                k = ids.index(rule_id)
                rules[k], origin[k] = rule, (i, j)
            else:
                rules.append(rule)
                origin.append((i, j))
                ids.append(rule_id)
        if "rules" in layer.data or "drop_rules" in layer.data:
            merged["rules"] = rules
    return merged, origin


def _depth(data: Any, loc: tuple[Any, ...]) -> int:
    """How many leading keys of ``loc`` exist in ``data``."""
    for n, key in enumerate(loc):
        if isinstance(data, dict):
            found = key in data
        else:
            found = isinstance(data, list) and isinstance(key, int) and key < len(data)
        if not found:
            return n
        data = data[key]
    return len(loc)


def _locator(chain: list[_Layer], origin: list[tuple[int, int]]) -> Callable[[tuple], str]:
    """Where a key of the merged profile was written: file, line and key path."""

    def where(loc: tuple[Any, ...]) -> str:
        if loc[:1] == ("rules",) and len(loc) > 1 and isinstance(loc[1], int):
            layer, j = origin[loc[1]]
            return chain[layer].where(("rules", j, *loc[2:]))
        depths = [(_depth(layer.data, loc), i) for i, layer in enumerate(chain)]
        return chain[max(depths)[1]].where(loc)

    return where


def load_standards(spec: str | Path | None = None) -> Standards:
    """Load a standards profile, the profiles it extends and its categories, validating every key.

    Parameters
    ----------
    spec
        A shipped profile's name (``national``, ``tianjin``, ``xiqing``…) or a YAML file, which
        may say ``extends: NAME`` (or a file); ``None`` loads ``national``.

    Returns
    -------
    Standards
        The validated, merged profile.

    Raises
    ------
    StandardsError
        Naming the file, the key path and its line for every problem found.
    """
    path = profile_path(spec)
    chain = _read_chain(path)
    merged, origin = _merge(chain)
    where = _locator(chain, origin)
    files = [str(f) for layer in chain for f in (layer.path, *(layer.categories or ())[:1])]
    extra = {"path": str(path), "profile": path.stem, "files": list(dict.fromkeys(files))}
    problems: list[str] = []
    try:
        standards = Standards.model_validate({**merged, **extra})
    except ValidationError as exc:
        for error in exc.errors():
            loc, text = _describe(error)
            problems.append(say("src_problem", where=where(loc), text=text))
        raise StandardsError(_problem_text(problems)) from None
    problems = _cross_check(standards, where)
    if problems:
        raise StandardsError(_problem_text(problems))
    return standards


def _problem_text(problems: list[str]) -> str:
    one = len(problems) == 1
    head = say("src_problems_one") if one else say("src_problems_many", n=len(problems))
    return f"{head}\n  " + "\n  ".join(problems)


def _cross_check(standards: Standards, where: Callable[[tuple], str]) -> list[str]:
    """Check references between sections: categories, profiles, rules, unique ids."""
    problems: list[str] = []

    def add(loc: tuple[Any, ...], text: str) -> None:
        problems.append(say("src_problem", where=where(loc), text=text))

    cat_ids = standards.category_ids
    seen: set[str] = set()
    for i, cid in enumerate(cat_ids):
        if cid in seen:
            add(("categories", "categories", i, "id"), say("src_duplicate_category", id=cid))
        seen.add(cid)
    for i, cid in enumerate(standards.analysis.authoritative):
        if cid not in cat_ids:
            add(("analysis", "authoritative", i), say("src_unknown_category", id=cid))
    for cid in standards.completeness.typical_per_10k:
        if cid not in cat_ids:
            add(("completeness", "typical_per_10k", cid), say("src_unknown_category", id=cid))
    seen = set()
    for i, rule in enumerate(standards.rules):
        if rule.id in seen:
            add(("rules", i, "id"), say("src_duplicate_rule", id=rule.id))
        seen.add(rule.id)
        for key, text in _rule_problems(standards, rule):
            add(("rules", i, *key), text)
    return problems


def _rule_problems(standards: Standards, rule: AnyRule) -> list[tuple[tuple[str, ...], str]]:
    """What a rule names that the profile lacks: (the key path in the rule, the problem)."""
    problems: list[tuple[tuple[str, ...], str]] = []
    sep, cat_ids = say("src_sep"), standards.category_ids
    category = getattr(rule, "category", None)
    if category is not None and category not in cat_ids:
        text = say("src_unknown_category_expected", id=category, known=sep.join(cat_ids))
        problems.append((("category",), text))
    threshold = getattr(rule, "threshold", None)
    profile = threshold.profile if threshold is not None else None
    if profile is not None and profile not in standards.profiles:
        known = sep.join(standards.profiles)
        problems.append(
            (("threshold", "profile"), say("src_unknown_speed_profile", id=profile, known=known))
        )
    of_rule = getattr(rule, "of_rule", None)
    target = next((r for r in standards.rules if r.id == of_rule), None)
    if of_rule is not None and target is None:
        ids = [r.id for r in standards.rules]
        text = say("src_unknown_of_rule", id=of_rule, known=sep.join(ids), ids=ids)
        problems.append((("of_rule",), text))
    elif of_rule is not None and (
        not isinstance(target, AccessRule | PresenceRule) or target.unit != rule.over
    ):
        over_zh = label(rule.over, "zh")
        text = say("src_of_rule_kind", id=of_rule, over=rule.over, over_zh=over_zh)
        problems.append((("of_rule",), text))
    if getattr(rule, "of", None) == "households" and rule.unit != "community":
        problems.append((("unit",), say("src_households_unit")))
    return problems
