"""What ``circles analyze`` prints: the run in a few lines, one line per category, and the units
with the most residents beyond reach, in the run's language."""

from __future__ import annotations

import math

from circles.messages import current_language, label, say, tr
from circles.present.rankings import RankingLayers, rankings
from circles.result import Analysis


def analysis_lines(file_name: str, result: Analysis) -> list[str]:
    """The network, the residents and their basis, the standards, one line per category
    that a rule of the standards judges."""
    s, lang = result.summary, result.lang
    units = "compound" if s.get("units") == "compound" else "community"
    lines = [
        say(
            "network_line",
            file=file_name,
            nodes=s["network"]["nodes"],
            edges=s["network"]["edges"],
            units=say(f"units_{units}"),
            count=s["communities"]["count"],
            population=s["communities"]["population"],
            kind=_population_kind(s),
        ),
        *_population_line(s.get("population")),
        _standards_line(s.get("standards", {}), lang),
    ]
    for cat in s["categories"]:
        if not cat["rules"]:
            continue  # found, but no rule of these standards judges it
        name = cat["name_zh"] if lang == "zh" else cat["name_en"]
        if cat["data"] == "no_data":
            lines.append(say("category_no_data", name=name))
            continue
        rules = [_rule_result(result, rule_id, r) for rule_id, r in cat["rules"].items()]
        basis = f"[{label(cat['authority'], lang)}]" if cat["authority"] != "planner" else ""
        lines.append(
            say(
                "category_line",
                name=name,
                count=cat["facilities"],
                basis=basis,
                rules=say("list_sep").join(rules),
            )
        )
    if units == "compound":
        lines.append(say("units_note"))
    return lines


def _population_kind(s: dict) -> str:
    """Official, estimated, or estimated and calibrated to an official total."""
    if not s["communities"]["population_estimated"]:
        return say("pop_official")
    calibrated = s.get("population", {}).get("calibrated")
    return say("pop_calibrated" if calibrated else "pop_estimated")


def _population_line(basis: dict | None) -> list[str]:
    """One line on what the population rests on, and whether it is calibrated."""
    if not basis:
        return []
    total = max(basis["total"], 1)
    before, factor = basis.get("total_before_calibration"), basis.get("calibration_factor")
    factor = None if basis.get("streets") else factor  # then scaled per street after
    by = basis.get("calibrated_by")
    if basis["calibrated"]:
        how = say("calibrated_by", by=by)
        if before and factor:
            how += say("calibrated_factor", before=before, factor=factor)
        elif before:
            how += say("calibrated_before", before=before)
    else:
        how = say("calibrated_part", by=by) if by else say("not_calibrated")
    share = basis["residential_land_share"]
    land = say("land_communities") if share is None else say("land_share", share=share)
    return [
        say(
            "basis_line",
            land=land,
            area=basis["study_area_km2"],
            density=basis["density_per_km2"],
            by_buildings=basis["residents_by_buildings"] / total,
            by_land=basis["residents_by_land_area"] / total,
            how=how,
        )
    ]


def _standards_line(standards: dict, lang: str) -> str:
    """The standards profile used, and how it was chosen."""
    name = standards.get("name_zh" if lang == "zh" else "name_en", "")
    how = tr(f"chosen_{standards.get('chosen_by', 'given')}", lang)
    return say("standards_line", name=name, profile=standards.get("profile", ""), how=how)


def _rule_result(result: Analysis, rule_id: str, r: dict) -> str:
    """A rule's district result, value and failing units, by the rule's name."""
    judged = r["communities_failing"] + r["communities_passing"]
    value = r.get("district_value")
    share = r["kind"] in ("access", "coverage_rate")
    shown = "" if value is None else f" {value:.1%}" if share else f" {value:.2f}"
    fails = say("rule_fails", failing=r["communities_failing"], judged=judged) if judged else ""
    name = result.standards.rule(rule_id).name(result.lang)
    return f"{name} {label(r.get('district_status', ''), result.lang)}{shown}{fails}"


def ranking_lines(result: Analysis, top: int = 5) -> list[str]:
    """The ``top`` communities (and 街道, when known) with the most residents beyond reach,
    per category with data and an access rule, one line per unit."""
    layers = RankingLayers.of(result)
    levels = ("community", "street") if result.streets is not None else ("community",)
    compound = result.summary.get("units") == "compound"
    lines = [say("ranking_head", n=top)]
    for cat in result.summary["categories"]:
        if (
            cat["data"] == "no_data"
            or result.standards.main_access_rule(cat["category_id"]) is None
        ):
            continue
        name = cat["name_zh"] if result.lang == "zh" else cat["name_en"]
        for level in levels:
            ranked = rankings(result, cat["category_id"], level, layers)  # type: ignore[arg-type]
            ranked = ranked[ranked["uncovered"] >= 0.5].head(top)  # someone beyond reach
            if len(ranked):
                shown = "compound" if compound and level == "community" else level
                lines.append(say("ranking_group", name=name, level=say(f"level_{shown}")))
                lines.extend(_ranked_entry(row) for row in ranked.itertuples())
    return lines if len(lines) > 1 else []


def _ranked_entry(row: tuple) -> str:
    """One ranked unit as the terminal shows it."""

    def minutes(value: float) -> str:
        finite = not math.isnan(value) and not math.isinf(value)
        return say("minutes", minutes=value) if finite else say("beyond_limit")

    named = isinstance(row.unit_name, str) and row.unit_name
    nearest = row.nearest_facility if isinstance(row.nearest_facility, str) else say("none")
    return say(
        "ranking_entry",
        rank=row.rank,
        name=row.unit_name if named else say("unnamed", id=row.unit_id),
        uncovered=row.uncovered,
        share=row.share,
        median=minutes(row.median_time_min),
        worst=minutes(row.worst_time_min),
        nearest=nearest,
    )


def file_line(f: dict) -> str:
    """What ``circles check`` prints of one file it read (``check_inputs``' summary)."""
    lang = current_language()
    if f["kind"] == "facilities":
        categories = "、" if lang == "zh" else ", "
        return say(
            "check_facilities",
            file=f["file"],
            records=f["records"],
            crs=f["crs"],
            categories=categories.join(f"{k} {v}" for k, v in f["categories"].items()),
            with_capacity=f["with_capacity"],
        )
    if f["kind"] == "communities":
        return say(
            "check_communities",
            file=f["file"],
            records=f["records"],
            population=f["population"],
            elderly=say("given" if f["with_elderly"] else "not_given"),
            children=say("given" if f["with_children"] else "not_given"),
        )
    levels = ("、" if lang == "zh" else ", ").join(
        f"{label(k, lang)} {v}" for k, v in f["levels"].items()
    )
    return say("check_boundaries", file=f["file"], records=f["records"], levels=levels)
