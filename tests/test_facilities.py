"""Facility counts equal a direct count of the OSM file's tags and names."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import shapely

from circles.model.facilities import categories_of
from conftest import CHENGDU, SHENZHEN, need


def xml_objects(path: Path, bounds: shapely.Geometry) -> list[dict[str, str]]:
    """Tags of nodes, closed ways and multipolygon relations inside ``bounds``, parsed directly."""
    root = ET.parse(path).getroot()
    loc = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    out = []

    def tags_of(el) -> dict[str, str]:
        return {t.get("k"): t.get("v") for t in el.findall("tag")}

    for n in root.iter("node"):
        tags = tags_of(n)
        if tags and bounds.intersects(shapely.Point(loc[n.get("id")])):
            out.append(tags)
    ways = {}
    for w in root.iter("way"):
        refs = [nd.get("ref") for nd in w.findall("nd")]
        ways[w.get("id")] = refs
        tags = tags_of(w)
        closed = len(refs) >= 4 and refs[0] == refs[-1] and all(r in loc for r in refs)
        area_like = tags and closed and tags.get("area") != "no"
        if area_like and bounds.intersects(shapely.Polygon([loc[r] for r in refs])):
            out.append(tags)
    for r in root.iter("relation"):
        tags = tags_of(r)
        if tags.get("type") in {"multipolygon", "boundary"}:
            members = [m.get("ref") for m in r.findall("member") if m.get("type") == "way"]
            pts = [loc[n] for m in members for n in ways.get(m, []) if n in loc]
            if pts and bounds.intersects(shapely.MultiPoint(pts).envelope):
                out.append({k: v for k, v in tags.items() if k != "type"})
    return out


def direct_count(objects, category, categories) -> Counter:
    """Independent matcher: name exclusions veto, then tag selectors, then Chinese name keywords."""
    facility_keys = {k for c in categories.categories for sel in c.tags for k in sel}

    def has(name: str, word: str) -> bool:
        anchored = word.endswith("$")
        return bool(re.search(re.escape(word.removesuffix("$")) + "$" * anchored, name))

    counts = Counter()
    for tags in objects:
        names = [tags[k] for k in ("name", "name:zh", "official_name") if k in tags]
        if any(has(n, x) for n in names for x in category.name_exclude):
            continue
        if any(
            all(tags.get(k) == v or (v is True and k in tags) for k, v in sel.items())
            for sel in category.tags_exclude
        ):
            continue
        by_tag = any(
            all(
                (tags.get(k) is not None)
                if v is True
                else (tags.get(k) is None)
                if v is False
                else (tags.get(k) in v)
                if isinstance(v, list)
                else tags.get(k) == v
                for k, v in sel.items()
            )
            for sel in category.tags
        )
        blocked = set(tags) & set(categories.name_match_ignore_keys) or (
            set(tags) & set(categories.name_match_area_keys) and not set(tags) & facility_keys
        )
        by_name = (
            not by_tag
            and not blocked
            and not set(tags) & set(category.tags_only_keys)
            and any(has(n, k) for n in names for k in category.name_keywords)
        )
        if by_tag:
            counts["tag"] += 1
        elif by_name:
            counts["name"] += 1
    return counts


@pytest.mark.parametrize("path", [CHENGDU, SHENZHEN], ids=["chengdu", "shenzhen"])
def test_facility_counts_equal_direct_count_of_osm_tags(path, standards, request):
    analysis = request.getfixturevalue("chengdu" if path == CHENGDU else "shenzhen")
    bounds = shapely.box(*analysis.summary["read_area_wgs84_bounds"])  # facilities read
    objects = xml_objects(need(path), bounds)
    fac = analysis.facilities
    total = 0
    for category in standards.categories.categories:
        expected = direct_count(objects, category, standards.categories)
        ours = fac[fac["category_id"] == category.id]["matched_by"].value_counts()
        assert int(ours.get("tag", 0)) == expected["tag"], category.id
        assert int(ours.get("name", 0)) == expected["name"], category.id
        total += sum(expected.values())
    assert total > 20


def test_known_counts_from_sources_md(chengdu):
    """SOURCES.md lists 5 kindergartens, 4 pharmacies, 11 convenience stores tagged in Chengdu."""
    tagged = chengdu.facilities[chengdu.facilities["matched_by"] == "tag"]
    counts = tagged["category_id"].value_counts()
    assert counts["kindergarten"] >= 5
    assert counts["convenience_store"] >= 11


def test_name_keywords_match_untagged_chinese_facilities(standards):
    cats = standards.categories
    assert categories_of({"name": "金牛区长者食堂"}, cats) == {"elderly_meal": "name"}
    assert categories_of({"name": "金牛区长者食堂", "highway": "bus_stop"}, cats) == {}
    assert categories_of({"amenity": "kindergarten"}, cats) == {"kindergarten": "tag"}
    assert categories_of({"name": "幼儿园路", "highway": "residential"}, cats) == {}


def test_exclusions_veto_tags_and_grade_tags_beat_names(standards):
    cats = standards.categories
    assert categories_of({"name": "城北电子城", "amenity": "marketplace"}, cats) == {}
    school = {"name": "红星小学", "amenity": "school", "isced:level": "2"}
    assert categories_of(school, cats) == {"junior_middle_school": "tag"}
    assert categories_of({"name": "北站小学"}, cats) == {"primary_school": "name"}


def test_place_blocks_a_name_only_without_a_facility_tag(standards):
    cats = standards.categories
    kindergarten = {"name": "千里马大地幼儿园", "amenity": "school", "place": "locality"}
    assert categories_of(kindergarten, cats) == {"kindergarten": "name"}
    assert categories_of({"name": "阳光幼儿园", "place": "neighbourhood"}, cats) == {}


def test_facilities_are_points_with_connectors(chengdu):
    fac = chengdu.facilities
    assert (fac.geom_type == "Point").all()
    assert (fac["connector_m"] >= 0).all()
    assert set(fac["source"]) == {"osm"}
