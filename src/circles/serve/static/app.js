// circles workbench: the page. Every text from the data (names from OSM, planners' files)
// is set with textContent, never as HTML.
"use strict";

const TEXT = {
  zh: {
    category: "类别", mode_score: "评分", mode_add: "新增", mode_close: "关闭", mode_move: "迁移",
    score: "选址评分", scenario: "规划方案", upload: "上传方案文件", datum: "坐标系", colon: "：",
    datum_unstated: "未注明（文件无坐标系列时须选）",
    clear: "清空方案", recommend: "推荐选址", run_recommend: "在方案中推荐",
    export: "导出", write_folder: "写入文件夹", folder_hint: "新文件夹的绝对路径",
    hint_score: "点击地图任意位置：评估在此新建设施的效果。",
    hint_add: "点击地图：在此新增设施。", hint_close: "点击现有设施：关闭它。",
    hint_move: "拖动设施到新位置，或先点击设施再点击新位置。", hint_move_to: "已选设施，点击新位置。",
    newly: "新增覆盖人数", nearest: "最近现有设施（步行）", rule: "规则", before: "现状",
    after: "新建后", share: "覆盖比例", passing: "达标社区数", median: "步行时间中位数（分钟）",
    worst: "最长步行时间（分钟）", none: "无", district: "全区", streets: "变化最大的街道",
    communities: "变化最大的社区", no_change: "无变化", value: "现状值", value_after: "规划后",
    status: "结果", add: "新增", close: "关闭", move: "迁移", remove: "删除",
    stage_starting: "启动", stage_candidates: "计算候选点覆盖", stage_solving: "求解",
    done: "完成", failed: "失败", written: "已写入", recommended: "推荐",
    in_scenario: "方案", counted_total: "全部居民", counted_elderly: "60岁以上老人", counted_children: "儿童",
    pass: "达标", fail: "未达标", no_data: "无数据", not_evaluated: "未评估", m: "米",
    empty: "方案为空：新增、关闭或迁移设施，或上传方案文件。",
  },
  en: {
    category: "Category", mode_score: "Score", mode_add: "Add", mode_close: "Close",
    mode_move: "Move", score: "Site score", scenario: "Scenario", upload: "Upload plan",
    datum: "Datum", colon: ": ", datum_unstated: "not stated (choose unless the file says)", clear: "Clear scenario", recommend: "Recommend sites",
    run_recommend: "Recommend in scenario", export: "Export", write_folder: "Write folder",
    folder_hint: "absolute path of a new folder",
    hint_score: "Click anywhere on the map to score a new facility there.",
    hint_add: "Click the map to add a facility there.", hint_close: "Click a facility to close it.",
    hint_move: "Drag a facility to its new place, or click it, then its new place.",
    hint_move_to: "Facility picked: click its new place.",
    newly: "Residents newly within reach", nearest: "Nearest existing facility (walk)",
    rule: "Rule", before: "before", after: "after", share: "Share within reach",
    passing: "Communities reaching the target", median: "Median walk (min)",
    worst: "Worst walk (min)", none: "none", district: "District",
    streets: "Streets changing most", communities: "Communities changing most",
    no_change: "no change", value: "before", value_after: "after", status: "result",
    add: "add", close: "close", move: "move", remove: "remove", stage_starting: "starting",
    stage_candidates: "covering candidates", stage_solving: "solving", done: "done",
    failed: "failed", written: "written", recommended: "recommended",
    in_scenario: "scenario", counted_total: "all residents", counted_elderly: "residents aged 60+",
    counted_children: "children", pass: "pass", fail: "fail", no_data: "no data",
    not_evaluated: "not evaluated", m: "m",
    empty: "The scenario is empty: add, close or move facilities, or upload a plan.",
  },
};
const RINGS = { 5: "#1a9850", 10: "#fee08b", 15: "#fc8d59" };

const state = { info: null, category: null, mode: "score", actions: [], datum: "",
  picked: null, view: null, grades: {}, communities: {}, markers: {} };
let T = TEXT.zh;
const map = L.map("map", { zoomControl: true, preferCanvas: false });
map.attributionControl.addAttribution("© OpenStreetMap contributors");
const layers = { network: null, communities: null, facilities: L.layerGroup().addTo(map),
  areas: L.layerGroup().addTo(map), site: L.layerGroup().addTo(map),
  changes: L.layerGroup().addTo(map) };

function $(id) { return document.getElementById(id); }
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function fmt(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }
function showError(message) { $("error").textContent = message || ""; }

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.blob();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
function post(path, data) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data) });
}

async function start() {
  state.info = await api("/api/info");
  T = TEXT[state.info.lang] || TEXT.zh;
  document.documentElement.lang = state.info.lang;
  document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = T[n.dataset.t]; });
  $("title").textContent = "circles · " + state.info.district.name;
  $("folder").placeholder = T.folder_hint;
  const select = $("category");
  for (const c of state.info.categories.filter((c) => c.main_rule)) {
    const option = el("option", `${c.name} (${c.facilities})`);
    option.value = c.id;
    select.appendChild(option);
  }
  const legend = $("legend");
  for (const g of state.info.legend) {
    const swatch = el("span", null, "swatch");
    swatch.style.background = g.colour;
    legend.append(swatch, el("span", g.text));
  }
  const [x0, y0, x1, y1] = state.info.bounds;
  map.fitBounds([[y0, x0], [y1, x1]]);
  await Promise.all([drawNetwork(), drawCommunities()]);
  const cats = state.info.categories;  // open on a category judged on foot that has facilities
  select.value = (cats.find((c) => c.scorable && c.facilities > 0)
    || cats.find((c) => c.scorable))?.id || select.value;
  await chooseCategory(select.value);
  setMode("score");
  document.body.dataset.ready = "1";
}

async function drawNetwork() {
  const response = await fetch("/api/network");
  const a = new Int32Array(await response.arrayBuffer());  // lon0, lat0, lon1, lat1 (µ°)
  const lines = [];
  for (let i = 0; i < a.length; i += 4) {
    lines.push([[a[i + 1] / 1e6, a[i] / 1e6], [a[i + 3] / 1e6, a[i + 2] / 1e6]]);
  }
  layers.network = L.polyline(lines, {
    renderer: L.canvas(), color: "#9e9e9e", weight: 1, opacity: 0.7, interactive: false,
  }).addTo(map);
}

async function drawCommunities() {
  const data = await api("/api/communities");
  layers.communities = L.geoJSON(data, {
    style: () => ({ color: "#555", weight: 0.6, fillOpacity: 0.45, fillColor: "#d9d9d9" }),
    onEachFeature: (feature, layer) => {
      state.communities[feature.properties.community_id] = layer;
    },
  }).addTo(map);
}

function gradeColour(grade) {
  return (state.info.legend.find((g) => g.grade === grade) || {}).colour || "#d9d9d9";
}

function paintGrades(grades) {
  for (const [id, layer] of Object.entries(state.communities)) {
    const g = grades[id] || { grade: "none" };
    layer.setStyle({ fillColor: gradeColour(g.grade) });
    const path = layer.getElement();
    if (path) path.setAttribute("class", `leaflet-interactive community grade-${g.grade}`);
    const name = layer.feature.properties.name || id;
    const value = g.value === null || g.value === undefined ? "–" : pct(g.value);
    layer.unbindTooltip().bindTooltip(document.createTextNode(`${name}${T.colon}${value}`), { sticky: true });
  }
}

async function chooseCategory(id) {
  state.category = id;
  $("score").replaceChildren();
  layers.site.clearLayers();
  layers.areas.clearLayers();
  const data = await api(`/api/layers?category=${encodeURIComponent(id)}`);
  state.grades = data.grades;
  layers.facilities.clearLayers();
  state.markers = {};
  for (const f of data.facilities) {
    const marker = L.circleMarker([f.lat, f.lon], { radius: 6, color: "#222", weight: 1.5,
      fillColor: "#1f78b4", fillOpacity: 0.9, className: "facility" });
    marker.bindTooltip(document.createTextNode(`${f.name || f.facility_id} (${f.source})`));
    marker.on("click", (e) => { L.DomEvent.stopPropagation(e); onFacility(f); });
    marker.on("mousedown", (e) => state.mode === "move" && dragFacility(f, e));
    marker.addTo(layers.facilities);
    state.markers[f.facility_id] = marker;
  }
  markClosed();
  const after = state.view && state.view.grades[id];
  paintGrades(after || state.grades);
}

function setMode(mode) {
  state.mode = mode;
  state.picked = null;
  document.querySelectorAll("#modes button").forEach((b) =>
    b.classList.toggle("active", b.dataset.mode === mode));
  $("hint").textContent = T[`hint_${mode}`];
}

function onMapClick(e) {
  const { lat, lng } = e.latlng;
  showError("");
  if (state.mode === "score") return scoreAt(lng, lat);
  if (state.mode === "add") {
    return change({ action: "add", category: state.category, lon: lng, lat });
  }
  if (state.mode === "move" && state.picked) {
    const id = state.picked;
    setMode("move");
    return change({ action: "move", facility_id: id, lon: lng, lat });
  }
}

function onFacility(f) {
  showError("");
  if (state.mode === "close") return change({ action: "close", facility_id: f.facility_id });
  if (state.mode === "move") {
    state.picked = f.facility_id;
    $("hint").textContent = `${T.hint_move_to} ${f.name || f.facility_id}`;
  }
}

// move by dragging: press on a facility, release at its new place
function dragFacility(f, down) {
  map.dragging.disable();
  const ghost = L.circleMarker(down.latlng, { radius: 7, color: "#1a9850", weight: 2,
    dashArray: "3 3", fill: false, interactive: false }).addTo(layers.changes);
  const follow = (e) => ghost.setLatLng(e.latlng);
  map.on("mousemove", follow);
  map.once("mouseup", (up) => {
    map.off("mousemove", follow);
    map.dragging.enable();
    layers.changes.removeLayer(ghost);
    if (up.containerPoint.distanceTo(down.containerPoint) > 8) {
      setMode("move");
      change({ action: "move", facility_id: f.facility_id, lon: up.latlng.lng, lat: up.latlng.lat });
    }
  });
}

async function scoreAt(lon, lat) {
  const query = `category=${encodeURIComponent(state.category)}&lon=${lon}&lat=${lat}`;
  layers.site.clearLayers();
  layers.areas.clearLayers();
  L.circleMarker([lat, lon], { radius: 7, color: "#000", fillColor: "#fff", fillOpacity: 1,
    className: "site" }).addTo(layers.site);
  try {
    const score = state.actions.length
      ? await post(`/api/score?${query}`, state.actions)
      : await api(`/api/score?${query}`);
    renderScore(score, lon, lat, state.actions.length > 0);
  } catch (err) {
    $("score").replaceChildren();
    return showError(err.message);
  }
  const areas = await api(`/api/areas?${query}`);
  L.geoJSON(areas, { style: (f) => ({ color: RINGS[f.properties.minutes] || "#91bfdb",
    weight: 1, fillOpacity: 0.12 }), interactive: false }).addTo(layers.areas);
  layers.areas.eachLayer((l) => l.bringToBack && l.bringToBack());
}

function row(table, cells) {
  const tr = el("tr");
  cells.forEach((c, i) => tr.appendChild(el("td", c, i ? "num" : "")));
  table.appendChild(tr);
  return tr;
}

function renderScore(s, lon, lat, inScenario) {
  const box = $("score");
  box.replaceChildren();
  const site = el("p", `${s.site[0].toFixed(6)}, ${s.site[1].toFixed(6)}`);
  site.id = "score-site";
  Object.assign(site.dataset, { lon, lat });
  box.appendChild(site);
  const first = s.rules[0];
  const head = el("p");
  const number = el("b", fmt(s.newly_covered));
  number.id = "score-newly";
  number.dataset.value = s.newly_covered;
  head.append(el("span", `${T.newly} (${T["counted_" + first.counted] || first.counted}): `), number);
  box.appendChild(head);
  const near = s.nearest_existing_m === null ? T.none : `${fmt(s.nearest_existing_m)} ${T.m}`;
  const nearest = el("p", `${T.nearest}${T.colon}${near}`);
  nearest.id = "score-nearest";
  box.appendChild(nearest);
  for (const r of s.rules) {
    const table = el("table");
    const th = el("tr");
    [r.rule_id, inScenario ? T.in_scenario : T.before, T.after].forEach((t) =>
      th.appendChild(el("th", t)));
    table.appendChild(th);
    row(table, [`${T.newly}`, "", fmt(r.newly_covered_population)]);
    row(table, [T.share, pct(r.share_before), pct(r.share_after)]);
    row(table, [T.passing, fmt(r.communities_passing_before), fmt(r.communities_passing_after)]);
    row(table, [T.median, fmt(r.median_time_min_before, 1), fmt(r.median_time_min_after, 1)]);
    row(table, [T.worst, fmt(r.worst_time_min_before, 1), fmt(r.worst_time_min_after, 1)]);
    box.appendChild(table);
  }
}

async function change(action) {
  state.actions.push(action);
  if (!(await runScenario())) state.actions.pop();
  renderActions();
}

async function runScenario() {
  layers.changes.clearLayers();
  if (!state.actions.length) {
    state.view = null;
    markClosed();
    $("effect").replaceChildren(el("p", T.empty));
    paintGrades(state.grades);
    return true;
  }
  try {
    state.view = await post("/api/scenario", { actions: state.actions });
  } catch (err) {
    showError(err.message);
    return false;
  }
  state.actions = state.view.actions;
  renderEffect(state.view);
  paintGrades(state.view.grades[state.category] || state.grades);
  drawChanges();
  return true;
}

function markClosed() {
  const gone = new Set(state.actions.filter((a) => a.action !== "add").map((a) => a.facility_id));
  for (const [id, marker] of Object.entries(state.markers)) {
    const closed = gone.has(id);
    marker.setStyle({ fillColor: closed ? "#ffffff" : "#1f78b4", dashArray: closed ? "2 2" : null });
    const path = marker.getElement();
    if (path) path.classList.toggle("closed", closed);
  }
}

function drawChanges() {
  markClosed();
  for (const a of state.actions) {
    if (a.lon === null || a.lon === undefined) continue;
    L.circleMarker([a.lat, a.lon], { radius: 7, color: "#222", weight: 2, fillColor: "#1a9850",
      fillOpacity: 0.95, className: "added" }).addTo(layers.changes);
  }
}

function statusText(s) { return T[s] || s || "–"; }
function valueText(v, kind) {
  if (v === null || v === undefined) return "–";
  return kind === "access" || kind === "coverage_rate" ? pct(v) : fmt(v, 2);
}

function renderEffect(view) {
  const box = $("effect");
  box.replaceChildren();
  const sections = [["district", T.district], ["street", T.streets], ["community", T.communities]];
  for (const [level, title] of sections) {
    const part = view[level];
    if (!part.rows.length) continue;
    box.appendChild(el("h3", level === "district" ? title : `${title} (${part.changed})`));
    const table = el("table");
    table.className = `effect-${level}`;
    const th = el("tr");
    [level === "district" ? T.rule : "", T.value, T.value_after, T.status].forEach((t) =>
      th.appendChild(el("th", t)));
    table.appendChild(th);
    for (const r of part.rows) {
      const name = level === "district" ? (r.rule_name || r.rule_id) : `${r.unit_name || r.unit_id} · ${r.rule_id}`;
      const tr = row(table, [name, valueText(r.value_before, r.kind), valueText(r.value_after, r.kind),
        `${statusText(r.status_before)} → ${statusText(r.status_after)}`]);
      tr.dataset.rule = r.rule_id;
      tr.dataset.after = r.value_after;
      const change = r.change || 0;
      if (change) tr.children[2].className += change > 0 ? " gain" : " loss";
    }
    box.appendChild(table);
  }
}

function renderActions() {
  const list = $("actions");
  list.replaceChildren();
  state.actions.forEach((a, i) => {
    const where = a.lon === null || a.lon === undefined ? "" : ` @ ${a.lon.toFixed(5)},${a.lat.toFixed(5)}`;
    const text = `${T[a.action] || a.action} ${a.category || ""} ${a.name || a.facility_id || ""}${where}`;
    const li = el("li", text);
    const remove = el("button", T.remove);
    remove.addEventListener("click", async () => {
      state.actions.splice(i, 1);
      await runScenario();
      renderActions();
    });
    li.appendChild(remove);
    list.appendChild(li);
  });
}

async function upload(file) {
  showError("");
  state.datum = $("datum").value;
  try {
    const crs = state.datum ? `&crs=${state.datum}` : "";  // unstated: the file must say
    const data = await api(`/api/plan?name=${encodeURIComponent(file.name)}${crs}`,
      { method: "POST", body: await file.arrayBuffer() });
    state.actions.push(...data.actions);
    if (["wgs84", "gcj02", "bd09"].includes(data.crs)) {
      state.datum = data.crs;  // the file may say its datum (高德经度...)
      $("datum").value = data.crs;
    }
    await runScenario();
  } catch (err) {
    showError(err.message);
  }
  renderActions();
}

async function runRecommend() {
  showError("");
  const k = parseInt($("k").value, 10);
  const progress = $("progress");
  let job;
  try {
    job = await post("/api/recommend", { category: state.category, k, actions: state.actions });
  } catch (err) {
    return showError(err.message);
  }
  while (job.state === "running") {
    progress.textContent = `${T["stage_" + job.stage] || job.stage} … ${job.seconds} s`;
    await new Promise((r) => setTimeout(r, 500));
    job = await api(`/api/jobs/${job.job}`);
  }
  if (job.state === "failed") {
    progress.textContent = T.failed;
    return showError(job.error);
  }
  const r = job.result;
  progress.textContent = `${T.done} (${job.seconds} s)${T.colon}${r.sites.length} · ${r.method}`;
  for (const s of r.sites) {
    state.actions.push({ action: "add", category: state.category, lon: s.lon, lat: s.lat,
      name: `${T.recommended} #${s.rank}` });
  }
  await runScenario();
  renderActions();
}

async function exportFolder() {
  showError("");
  try {
    const data = await post("/api/export", { folder: $("folder").value, actions: state.actions,
      crs: state.datum || "wgs84" });
    $("export-msg").textContent = `${T.written}${T.colon}${data.folder} (${data.files.join(", ")})`;
  } catch (err) {
    showError(err.message);
  }
}

async function download(kind) {
  showError("");
  try {
    const body = { actions: state.actions, crs: state.datum || "wgs84" };
    const blob = await post(`/api/download/${kind}`, body);
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = { csv: "scenario.csv", geojson: "scenario.geojson", xlsx: "compare.xlsx" }[kind];
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (err) {
    showError(err.message);
  }
}

map.on("click", onMapClick);
$("category").addEventListener("change", (e) => chooseCategory(e.target.value));
document.querySelectorAll("#modes button").forEach((b) =>
  b.addEventListener("click", () => setMode(b.dataset.mode)));
$("upload").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
$("datum").addEventListener("change", (e) => { state.datum = e.target.value; });
$("clear").addEventListener("click", async () => { state.actions = []; await runScenario(); renderActions(); });
$("recommend").addEventListener("click", runRecommend);
$("export").addEventListener("click", exportFolder);
document.querySelectorAll("[data-download]").forEach((b) =>
  b.addEventListener("click", () => download(b.dataset.download)));
start().catch((err) => showError(err.message));
