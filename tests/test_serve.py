"""`circles serve`: the workbench's API (Starlette's TestClient) and its page in a real
browser, on the real Chengdu extract."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from circles.access.search import site_walks
from circles.planning.plan_file import read_plan
from circles.planning.saved import load_analysis
from circles.planning.scenario import Action, run_scenario
from circles.planning.score import access_rules, place_site, score_site
from circles.present.tables import write_outputs
from circles.rules.evaluate import access_stats
from circles.rules.measures import meets, rule_weights
from circles.serve.app import create_app
from circles.serve.workbench import open_workbench
from conftest import CHROMEDRIVER, CHROMIUM, NO_BROWSER, headless_chromium

with warnings.catch_warnings():  # starlette 1.x asks for httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SITE = (104.08, 30.69)
JSON = {"Content-Type": "application/json"}
CLICK = "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))"
ALLOWED = {"lon", "lat", "crs", "wgs84", "gcj02", "bd09", "JSON"}  # what the user types


def _english(text: str) -> set[str]:
    """Words of 3+ ASCII letters in a message, less the values it quotes (“...”)."""
    return set(re.findall(r"[A-Za-z_]\w{2,}", re.sub(r"“[^”]*”", "", text)))


@pytest.fixture(scope="module")
def folder(chengdu, tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    write_outputs(chengdu, out)
    return out


@pytest.fixture(scope="module")
def bench(folder):
    return open_workbench(load_analysis(folder), None, "zh")


@pytest.fixture(scope="module")
def client(bench):
    return TestClient(create_app(bench), base_url="http://127.0.0.1:8765")


def _ids(bench, category):
    fac = bench.base.facilities
    return fac.loc[fac["category_id"] == category, "facility_id"].tolist()


def test_page_scripts_and_styles_come_from_installed_packages(client):
    page = client.get("/").text
    assert "https://" not in page and "http://" not in page
    for path in ("/leaflet/leaflet.js", "/leaflet/leaflet.css", "/static/app.js"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.content) > 1000, path
    script = client.get("/static/app.js").text
    assert "innerHTML" not in script and "textContent" in script


def test_categories_and_layers(client, bench):
    cats = {c["id"]: c for c in client.get("/api/categories").json()}
    assert cats["kindergarten"]["main_rule"] == "kindergarten_300m"
    assert cats["kindergarten"]["facilities"] == len(_ids(bench, "kindergarten"))
    layers = client.get("/api/layers?category=kindergarten").json()
    assert len(layers["facilities"]) == cats["kindergarten"]["facilities"]
    grades = layers["grades"]
    assert len(grades) == len(bench.base.communities)
    assert {g["grade"] for g in grades.values()} <= {"pass", "near", "below", "far", "none"}
    assert sum(g["status"] == "pass" for g in grades.values()) == sum(
        g["grade"] == "pass" for g in grades.values()
    )
    network = np.frombuffer(client.get("/api/network").content, "<i4").reshape(-1, 4) / 1e6
    assert len(network) > 1000
    x0, y0, x1, y1 = client.get("/api/info").json()["bounds"]
    lon, lat = network[:, [0, 2]], network[:, [1, 3]]
    assert (
        x0 - 0.05 < lon.min() < lon.max() < x1 + 0.05
        and y0 - 0.05 < lat.min() < lat.max() < y1 + 0.05
    )
    assert len(client.get("/api/communities").json()["features"]) == len(grades)


def test_score_api_equals_circles_score(client, bench):
    got = client.get(f"/api/score?category=kindergarten&lon={SITE[0]}&lat={SITE[1]}").json()
    want = score_site(bench.saved, "kindergarten", *SITE)
    assert got == json.loads(json.dumps({"newly_covered": got["newly_covered"], **want}))
    assert got["newly_covered"] == want["rules"][0]["newly_covered_population"] > 0
    rings = client.get(f"/api/areas?category=kindergarten&lon={SITE[0]}&lat={SITE[1]}").json()
    assert [f["properties"]["minutes"] for f in rings["features"]] == [5, 10, 15]


def test_score_inside_a_scenario_starts_from_its_walks(client):
    query = f"category=kindergarten&lon={SITE[0]}&lat={SITE[1]}"
    plan = [{"action": "add", "category": "kindergarten", "lon": SITE[0], "lat": SITE[1]}]
    today = client.get(f"/api/score?{query}").json()
    within = client.post(f"/api/score?{query}", json=plan).json()
    district = client.post("/api/scenario", json=plan).json()["district"]["rows"][0]
    assert today["newly_covered"] > 0 and within["newly_covered"] == 0
    assert within["rules"][0]["share_before"] == pytest.approx(district["value_after"], abs=1e-6)
    assert within["rules"][0]["share_before"] > today["rules"][0]["share_before"]
    assert within["nearest_existing_m"] < today["nearest_existing_m"]  # the added site


def test_score_from_the_points_a_site_reaches_equals_a_full_recount(bench):
    """The fast score (one search from the site, the change found on the points it reaches)
    gives every number of a recount of all demand points."""
    saved, state = bench.saved, bench.saved.state
    to_wgs = Transformer.from_crs(saved.crs, 4326, always_xy=True)
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = saved.study_area_m.bounds
    checked = 0
    while checked < 12:
        xy = rng.uniform([minx, miny], [maxx, maxy])
        if not saved.study_area_m.contains(shapely.Point(xy)):
            continue
        lon, lat = to_wgs.transform(*xy)
        category = ("kindergarten", "supermarket", "primary_school")[checked % 3]
        score = score_site(saved, category, lon, lat)
        site = place_site(saved, category, lon, lat)
        old = state.point_dist(category)
        limit = state.access[category].limit_m
        new = np.minimum(old, site_walks(state.graph, site, limit))
        for rule, r in zip(access_rules(saved, category), score["rules"], strict=True):
            w, _, _ = rule_weights(rule, state.demand)
            codes, n = state.demand["community"], len(state.communities["community_id"])
            before_c, _ = access_stats(saved.standards, rule, old, w, codes, n)
            after_c, after = access_stats(saved.standards, rule, new, w, codes, n)
            threshold = saved.standards.threshold_m(rule)
            assert r["share_after"] == round(float(after.share[0]), 6)
            for what in ("median", "worst"):
                d = float(getattr(after, what)[0])
                assert r[f"{what}_dist_m_after"] == (round(d, 1) if np.isfinite(d) else None)
            newly = w[(old > threshold) & (new <= threshold)].sum()
            assert r["newly_covered_population"] == round(float(newly), 1)
            passing = (before_c.total > 0) & meets(after_c.share, rule.target_share)
            assert r["communities_passing_after"] == int(passing.sum())
        checked += 1


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("category=kindergarden&lon=104.08&lat=30.69", "未知类别“kindergarden”"),
        ("category=kindergarten&lon=116.4&lat=39.9", "位于本次分析的研究范围"),
        ("category=kindergarten&lon=abc&lat=30.69", "lon 应为以度为单位的数值"),
        ("category=kindergarten&lon=104.08&lat=nan", "lat 应为以度为单位的数值"),
        ("category=kindergarten&lon=104.08", "缺少 lat"),
        ("category=kindergarten&lon=104.08&lat=30.69&crs=mars", "crs 应为以下之一"),
        ("category=football_pitch&lon=104.08&lat=30.69", "没有步行可达规则"),
    ],
)
def test_bad_score_requests_get_a_4xx_naming_the_problem(client, query, problem):
    response = client.get(f"/api/score?{query}")
    assert 400 <= response.status_code < 500
    assert problem in response.json()["error"]
    assert "Traceback" not in response.text
    assert _english(response.json()["error"]) <= ALLOWED  # no English sentence left


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "JSON 请求内容格式错误"),
        (b'{"actions": 3}', "应为操作的 JSON 列表"),
        (b"[1]", "第 1 项操作：应为对象"),
        (b'[{"action": "add", "where": 1}]', "未知字段“where”"),
        (b'[{"action": "add", "category": "kindergarten", "lon": "x", "lat": 30}]', "lon 应为"),
        (b'[{"action": "add", "category": "kindergarden", "lon": 104.08, "lat": 30.69}]', "是否指"),
        (b'[{"action": "close", "facility_id": "osm:node/1"}]', "未知 facility_id"),
        (json.dumps([{"action": "close"}] * 1001).encode(), "一次最多评判 1,000 项"),
    ],
)
def test_bad_scenarios_get_a_4xx_naming_the_problem(client, body, problem):
    response = client.post("/api/scenario", content=body, headers=JSON)
    assert 400 <= response.status_code < 500
    assert problem.lower() in response.json()["error"].lower()
    assert "Traceback" not in response.text


def test_errors_speak_the_workbench_language(bench):
    english = TestClient(create_app(replace(bench, lang="en")), base_url="http://127.0.0.1:8765")
    score = english.get("/api/score?category=kindergarden&lon=104.08&lat=30.69").json()
    assert score["error"] == "unknown category 'kindergarden'. Did you mean 'kindergarten'?"
    body = english.post("/api/scenario", content=b"[1]", headers=JSON).json()
    assert body["error"] == "action 1: expected an object, got int."
    job = english.post("/api/recommend", json={"category": "kindergarten", "k": 0}).json()
    assert job["error"] == "k must be a whole number from 1 to 50, got 0."


def test_requests_from_other_hosts_or_without_json_are_refused(bench, client):
    other = TestClient(create_app(bench), base_url="http://attacker.example")
    assert other.get("/api/categories").status_code == 400
    plan = json.dumps({"folder": "/tmp/x", "actions": []})
    as_form = client.post("/api/export", content=plan, headers={"Content-Type": "text/plain"})
    assert as_form.status_code == 415 and "application/json" in as_form.json()["error"]


def test_unknown_job_and_route_are_json_errors(client):
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.get("/api/jobs/nope").json()["error"]
    assert client.get("/api/nothing").json() == {"error": "Not Found"}
    assert (
        client.post("/api/recommend", json={"category": "kindergarten", "k": 0}).status_code == 400
    )


def test_scenario_api_equals_run_scenario(client, bench):
    plan = [
        {"action": "add", "category": "kindergarten", "lon": SITE[0], "lat": SITE[1]},
        {"action": "close", "facility_id": _ids(bench, "supermarket")[0]},
    ]
    view = client.post("/api/scenario", json={"actions": plan}).json()
    actions = [Action(a["action"], a.get("category"), a.get("lon"), a.get("lat"),
                      a.get("facility_id")) for a in plan]  # fmt: skip
    want = run_scenario(bench.base, actions).district()
    got = pd.DataFrame(view["district"]["rows"])
    assert got["rule_id"].tolist() == want["rule_id"].tolist()
    assert np.allclose(got["value_after"], want["value_after"].astype(float), equal_nan=True)
    assert view["categories"] == ["kindergarten", "supermarket"]
    assert set(view["grades"]) == {"kindergarten", "supermarket"}


def test_closing_every_facility_of_a_category_turns_its_communities_to_gaps(client, bench):
    before = client.get("/api/layers?category=community_health").json()["grades"]
    assert any(g["status"] == "pass" for g in before.values())
    plan = [{"action": "close", "facility_id": f} for f in _ids(bench, "community_health")]
    after = client.post("/api/scenario", json=plan).json()["grades"]["community_health"]
    peopled = bench.base.communities.set_index("community_id")["population"] > 0
    for cid, g in after.items():
        if peopled[cid]:
            assert g["status"] == "fail" and g["value"] == 0 and g["grade"] == "far", cid


def test_recommend_runs_inside_the_scenario(client, bench):
    close = [{"action": "close", "facility_id": f} for f in _ids(bench, "kindergarten")]
    today = _recommend(client, [])
    job = _recommend(client, close)
    assert job["state"] == "done", job
    result = job["result"]
    assert len(result["sites"]) == 2
    assert result["uncovered_before"] > today["result"]["uncovered_before"]  # nobody reached
    weights = bench.saved.state.demand["population"]
    assert result["uncovered_before"] == pytest.approx(weights.sum(), abs=0.1)


def _recommend(client, actions):
    job = client.post(
        "/api/recommend", json={"category": "kindergarten", "k": 2, "actions": actions}
    )
    assert job.status_code == 202
    job = job.json()
    for _ in range(600):
        if job["state"] != "running":
            return job
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['job']}").json()
    raise AssertionError(job)


def test_uploaded_gcj02_plan_exports_as_csv_geojson_and_xlsx(client, bench, folder, tmp_path):
    gcj = (104.0825306, 30.6876091)  # SITE in GCJ-02
    pharmacy = _ids(bench, "pharmacy")[0]
    csv = f"操作,类别,经度,纬度,facility_id\n新增,幼儿园,{gcj[0]},{gcj[1]},\n关闭,,,,{pharmacy}\n"
    up = client.post("/api/plan?name=方案.csv&crs=gcj02", content=csv.encode("utf-8"))
    assert up.status_code == 200, up.text
    actions = up.json()["actions"]
    assert actions[0]["category"] == "kindergarten"
    assert actions[0]["lon"] == pytest.approx(SITE[0], abs=1e-6)
    body = {"actions": actions, "crs": "gcj02", "folder": str(tmp_path / "plan-1")}
    files = client.post("/api/export", json=body).json()["files"]
    assert {"scenario.csv", "scenario.geojson", "compare.xlsx", "manifest.json"} <= set(files)
    table = pd.read_csv(tmp_path / "plan-1" / "scenario.csv", encoding="utf-8-sig")
    assert table.loc[0, "gcj02_lon"] == pytest.approx(gcj[0], abs=1e-6)
    again = read_plan(tmp_path / "plan-1" / "scenario.csv", crs="wgs84")
    assert [(a.kind, a.facility_id) for a in again] == [
        ("add", None),
        ("close", actions[1]["facility_id"]),
    ]
    geo = json.loads((tmp_path / "plan-1" / "scenario.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["change"] for f in geo["features"]] == ["added", "removed"]
    for refused in (
        str(tmp_path / "plan-1"),
        str(folder / "x"),
        "relative/plan",
        str(folder.parent),
    ):
        response = client.post("/api/export", json=body | {"folder": refused})
        assert response.status_code == 400, refused
    named = "action,category,高德经度,高德纬度\nadd,pharmacy,104.0825306,30.6876091\n"
    said = client.post("/api/plan?name=p.csv", content=named.encode("utf-8")).json()
    assert said["crs"] == "gcj02" and said["actions"][0]["lon"] == pytest.approx(SITE[0], abs=1e-6)
    broken = client.post("/api/plan?name=p.csv", content=b"a,b\n1,2\n").json()["error"]
    assert "p.csv" in broken and "circles-plan-" not in broken
    plain = f"action,category,经度,纬度\nadd,pharmacy,{gcj[0]},{gcj[1]}\n".encode()
    unstated = client.post("/api/plan?name=方案.csv", content=plain)
    assert unstated.status_code == 400  # no datum given: which one is it?
    error = unstated.json()["error"]
    assert "方案.csv" in error and all(d in error for d in ("gcj02", "bd09", "wgs84"))
    xlsx = client.post("/api/download/xlsx", json=body)
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    assert {"区", "方案"} <= set(sheets)


def test_concurrent_requests_give_the_answers_of_serial_ones(client):
    queries = [f"category=kindergarten&lon={104.06 + i * 0.004}&lat=30.69" for i in range(8)]
    serial = [client.get(f"/api/score?{q}").json() for q in queries]
    plan = [{"action": "add", "category": "pharmacy", "lon": SITE[0], "lat": SITE[1]}]
    with ThreadPoolExecutor(8) as pool:
        scores = list(pool.map(lambda q: client.get(f"/api/score?{q}").json(), queries * 2))
        views = list(pool.map(lambda _: client.post("/api/scenario", json=plan).json(), range(6)))
    assert scores == serial * 2
    assert all(v == views[0] for v in views)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(bench):
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(create_app(bench), host="127.0.0.1", port=port, log_level="warning")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if app_server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    app_server.should_exit = True
    thread.join(10)


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=NO_BROWSER)
def test_page_in_chromium_scores_a_click_as_circles_score_does(server, bench, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = headless_chromium(tmp_path / "profile", logs=True)
    online = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", online)  # the local server
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["https://*"]})
    wait = WebDriverWait(driver, 60)
    try:
        driver.get(server)
        wait.until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
        Select(driver.find_element(By.ID, "category")).select_by_value("kindergarten")
        time.sleep(1)
        box = driver.find_element(By.ID, "map")
        ActionChains(driver).move_to_element_with_offset(box, 40, 30).click().perform()
        newly = wait.until(lambda d: d.find_elements(By.ID, "score-newly"))[0]
        site = driver.find_element(By.ID, "score-site")
        lon, lat = float(site.get_attribute("data-lon")), float(site.get_attribute("data-lat"))
        want = score_site(bench.saved, "kindergarten", lon, lat)["rules"][0]
        assert float(newly.get_attribute("data-value")) == want["newly_covered_population"]
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive"))
        Select(driver.find_element(By.ID, "category")).select_by_value("community_health")
        time.sleep(1)
        assert driver.find_elements(By.CSS_SELECTOR, "path.grade-pass")
        driver.find_element(By.CSS_SELECTOR, "[data-mode=close]").click()
        for _ in _ids(bench, "community_health"):
            marker = driver.find_elements(By.CSS_SELECTOR, "path.facility:not(.closed)")[0]
            driver.execute_script(CLICK, marker)
            time.sleep(1.5)
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "path.grade-pass"))
        assert driver.find_elements(By.CSS_SELECTOR, "path.grade-far")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#actions li")) == 2
        Select(driver.find_element(By.ID, "category")).select_by_value("pharmacy")
        time.sleep(1)
        driver.find_element(By.CSS_SELECTOR, "[data-mode=move]").click()
        marker = driver.find_elements(By.CSS_SELECTOR, "path.facility")[0]
        ActionChains(driver).click_and_hold(marker).move_by_offset(60, 40).release().perform()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#actions li")) == 3)
        assert "迁移" in driver.find_elements(By.CSS_SELECTOR, "#actions li")[-1].text
        assert len(driver.find_elements(By.CSS_SELECTOR, "path.facility.closed")) == 1
        shot = tmp_path / "workbench.png"
        driver.save_screenshot(str(shot))
        logs = driver.get_log("browser")
    finally:
        driver.quit()
    assert [e for e in logs if e["level"] == "SEVERE"] == []
    keep = os.environ.get("CIRCLES_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "workbench.png")


def test_cli_serve_loads_once_and_prints_the_local_url(folder, monkeypatch):
    import uvicorn
    from click.testing import CliRunner

    from circles.cli import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw, app=app))
    result = CliRunner().invoke(main, ["serve", "--analysis", str(folder), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/" in result.output and "loaded" in result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 8765
    zh = CliRunner().invoke(main, ["serve", "--analysis", str(folder), "--port", "9001"])
    assert "规划工作台" in zh.output and ":9001/" in zh.output
    bad = CliRunner().invoke(main, ["serve", "--analysis", str(folder / "nope")])
    assert bad.exit_code == 2 and "不是分析结果文件夹" in bad.output
