"""Facility counts equal a direct count of the OSM file's tags and names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import shapely

from circles.model.facilities import match_category
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


def direct_count(objects, category, ignore) -> Counter:
    """Independent matcher: tag selectors first, then Chinese name keywords."""
    counts = Counter()

    def holds(sel, tags):
        return all(
            (tags.get(k) is not None)
            if v is True
            else (tags.get(k) in v)
            if isinstance(v, list)
            else tags.get(k) == v
            for k, v in sel.items()
        )

    for tags in objects:
        excluded = any(holds(sel, tags) for sel in category.tags_exclude)
        by_tag = not excluded and any(holds(sel, tags) for sel in category.tags)
        name = "|".join(tags.get(k, "") for k in ("name", "name:zh", "official_name"))
        by_name = (
            not by_tag
            and not excluded
            and not (set(tags) & set(ignore))
            and any(k in name for k in category.name_keywords)
            and not any(x in name for x in category.name_exclude)
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
    ignore = standards.categories.name_match_ignore_keys
    fac = analysis.facilities
    total = 0
    for category in standards.categories.categories:
        expected = direct_count(objects, category, ignore)
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
    cat = standards.category("elderly_meal")
    ignore = frozenset(standards.categories.name_match_ignore_keys)
    assert match_category({"name": "金牛区长者食堂"}, cat, ignore) == "name"
    assert match_category({"name": "金牛区长者食堂", "highway": "bus_stop"}, cat, ignore) is None
    kg = standards.category("kindergarten")
    assert match_category({"amenity": "kindergarten"}, kg, ignore) == "tag"
    assert match_category({"name": "幼儿园路", "highway": "residential"}, kg, ignore) is None


def test_facilities_are_points_with_connectors(chengdu):
    fac = chengdu.facilities
    assert (fac.geom_type == "Point").all()
    assert (fac["connector_m"] >= 0).all()
    assert set(fac["source"]) == {"osm"}
