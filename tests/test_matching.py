"""Facility matching measured on a labelled set: precision and recall per category.

``tests/data/labelled_facilities.csv`` holds real named OSM features from every extract in
../shared/osm (``source`` = file, with ``osm_type``/``osm_id``) and hand-written hard cases
(``source`` = ``hand``), each labelled with the categories a Chinese planner would count it in
(``expected``, ids separated by ``;``, empty = none). ``future_category`` names a kind that
has no category yet: such rows are not scored for it.
Labels are judgements of what the feature is, not of what the matcher does; add a row
whenever a wrong match is found.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from circles import load_standards
from circles.model.facilities import categories_of
from conftest import MATCHING_REPORT

LABELLED = Path(__file__).parent / "data" / "labelled_facilities.csv"
OVERALL_TARGET = 0.95  # issue 13: precision and recall of at least 95 % overall
CATEGORY_TARGET = 0.90  # ... with no category below 90 %
MIN_POSITIVES = 5  # fewer labelled positives than this: reported, not asserted
MAIN = {  # categories the set must cover with at least MIN_POSITIVES examples each
    "elderly_meal",
    "elderly_daycare",
    "nursing_home",
    "childcare",
    "kindergarten",
    "primary_school",
    "junior_middle_school",
    "community_health",
    "pharmacy",
    "fitness_site",
    "gym",
    "sports_ground",
    "convenience_store",
    "fresh_market",
    "supermarket",
    "post_parcel",
    "community_service_centre",
}


def labelled_rows() -> list[dict[str, object]]:
    """The labelled set: tags (dict) and expected category ids (set) per row."""
    with LABELLED.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["tags"] = json.loads(row["tags"])
        row["expected"] = {c for c in row["expected"].split(";") if c}
    return rows


def scores(rows, categories) -> dict[str, tuple[int, int, int]]:
    """True positives, false positives and false negatives per category id."""
    counts = {c.id: [0, 0, 0] for c in categories.categories}
    for row in rows:
        found = set(categories_of(row["tags"], categories))
        for cid in found | row["expected"]:
            hit = cid in found, cid in row["expected"]
            counts[cid][0 if all(hit) else 1 if hit[0] else 2] += 1
    return {cid: tuple(c) for cid, c in counts.items()}


def ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def totals(counts: dict[str, tuple[int, int, int]], skip=()) -> tuple[int, int, int]:
    """True positives, false positives and false negatives summed over categories."""
    kept = [c for cid, c in counts.items() if cid not in skip]
    return tuple(sum(c[i] for c in kept) for i in range(3))


def table(counts: dict[str, tuple[int, int, int]], skip=()) -> str:
    """Precision and recall per category and overall (also without ``skip``), one line each."""
    lines = [f"{'category':<26}{'pos':>5}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}"]
    overall = [("OVERALL", totals(counts)), ("OVERALL asserted", totals(counts, skip))]
    for cid, (tp, fp, fn) in [*counts.items(), *overall]:
        p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
        lines.append(f"{cid:<26}{tp + fn:>5}{tp:>5}{fp:>5}{fn:>5}{p:>11.1%}{r:>8.1%}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def rows():
    return labelled_rows()


def test_labelled_set_is_large_real_and_valid(rows, standards):
    real = [r for r in rows if r["source"] != "hand"]
    assert len(real) >= 300
    osm = Path(__file__).resolve().parents[2] / "shared" / "osm"
    extracts = {p.name for p in osm.glob("*.osm")} or {r["source"] for r in real}
    assert {r["source"] for r in real} == extracts  # every extract contributes
    assert all(r["osm_type"] and r["osm_id"] for r in real)
    known = set(standards.category_ids)
    for row in rows:
        assert row["expected"] <= known, row["name"]
        assert row["tags"].get("name") == row["name"]


# Known gaps in categories owned by another branch: expected to fail here until fixed there
# (strict: a pass then fails, and the entry must go). They are left out of OVERALL's
# assertion, not out of the printed table. None at present.
OWNED_ELSEWHERE: dict[str, str] = {}
CATEGORY_IDS = load_standards().category_ids


@pytest.fixture(scope="module")
def counts(rows, standards, pytestconfig):
    found = scores(rows, standards.categories)
    pytestconfig.stash[MATCHING_REPORT] = table(found, OWNED_ELSEWHERE)
    return found


def test_overall_precision_and_recall(counts):
    tp, fp, fn = totals(counts, OWNED_ELSEWHERE)
    assert ratio(tp, tp + fp) >= OVERALL_TARGET
    assert ratio(tp, tp + fn) >= OVERALL_TARGET


@pytest.mark.parametrize(
    "cid",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=OWNED_ELSEWHERE[c]))
        if c in OWNED_ELSEWHERE
        else c
        for c in CATEGORY_IDS
    ],
)
def test_category_precision_and_recall(counts, cid):
    tp, fp, fn = counts[cid]
    if tp + fn < MIN_POSITIVES:
        pytest.skip(f"{cid}: {tp + fn} labelled positives, reported only")
    assert ratio(tp, tp + fp) >= CATEGORY_TARGET, f"{cid} precision"
    assert ratio(tp, tp + fn) >= CATEGORY_TARGET, f"{cid} recall"


def test_main_categories_have_enough_examples(counts):
    thin = [cid for cid in sorted(MAIN) if sum(counts[cid][0::2]) < MIN_POSITIVES]
    assert not thin, f"fewer than {MIN_POSITIVES} labelled positives: {thin}"
