"""The workbench's web app (Starlette): the page, its scripts and Leaflet from installed
packages, and the JSON API it uses. Bad requests get a 4xx ``{"error": ...}``, never a
traceback."""

from __future__ import annotations

import json
import logging
import math
import tempfile
from dataclasses import replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from circles.errors import CirclesError
from circles.messages import language, say
from circles.planning.plan_file import read_plan_datum
from circles.planning.recommend import recommend
from circles.planning.scenario import MAX_ACTIONS, Action
from circles.serve.export import compare_xlsx, export_folder, scenario_csv, scenario_geojson
from circles.serve.jobs import Jobs
from circles.serve.workbench import Workbench, action_json, legend
from circles.sources.coords import DATUMS, to_wgs84

STATIC = Path(__file__).parent / "static"
MAX_BODY = 2_000_000  # bytes of a JSON request
MAX_UPLOAD = 20_000_000  # bytes of an uploaded plan file
MAX_SITES = 50  # recommend: at most this many sites at once
PLAN_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".geojson", ".json", ".gpkg")
ACTION_KEYS = {"action", "category", "lon", "lat", "facility_id", "name"}
log = logging.getLogger(__name__)


class BadRequest(HTTPException):
    """A request the API refuses (400 unless told), with a message naming the problem."""

    def __init__(self, detail: str, status_code: int = 400) -> None:
        super().__init__(status_code, detail)


def create_app(bench: Workbench, host: str = "127.0.0.1") -> Starlette:
    """The app serving ``bench`` at ``host``.

    Requests must name this machine (or ``host``) as their host, so that no web page can reach
    the workbench through a DNS name of its own, and send JSON as ``application/json``, which
    a page of another site cannot do without the workbench's consent (it gives none).
    """
    jobs = Jobs()
    api = Api(bench, jobs)
    routes = [
        Route("/", lambda _: FileResponse(STATIC / "index.html")),
        Route("/api/info", api.info),
        Route("/api/categories", api.categories),
        Route("/api/network", api.network),
        Route("/api/communities", api.communities),
        Route("/api/layers", api.layers),
        Route("/api/score", api.score, methods=["GET", "POST"]),
        Route("/api/areas", api.areas),
        Route("/api/scenario", api.scenario, methods=["POST"]),
        Route("/api/plan", api.plan, methods=["POST"]),
        Route("/api/recommend", api.recommend, methods=["POST"]),
        Route("/api/jobs/{job}", api.job),
        Route("/api/export", api.export, methods=["POST"]),
        Route("/api/download/{kind}", api.download, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC)),
        Mount("/leaflet", StaticFiles(packages=[("js_lib_leaflet", "static/js_lib_leaflet")])),
    ]
    handlers = {HTTPException: _http_error, CirclesError: _input_error, Exception: _server_error}
    hosts = ["127.0.0.1", "localhost", "::1", host]
    middleware = [
        Middleware(_Language, lang=bench.lang),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
    ]
    return Starlette(routes=routes, exception_handlers=handlers, middleware=middleware)


class _Language:
    """Every request answered in the workbench's language (its errors too)."""

    def __init__(self, app: ASGIApp, lang: str) -> None:
        self.app, self.lang = app, lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle the request in the language."""
        with language(self.lang):
            await self.app(scope, receive, send)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


def _input_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=400)


def _server_error(_: Request, exc: Exception) -> JSONResponse:
    log.error("internal error", exc_info=exc)
    return JSONResponse({"error": say("out_internal_error", kind=type(exc).__name__)}, 500)


class Api:
    """The API's handlers over one workbench."""

    def __init__(self, bench: Workbench, jobs: Jobs) -> None:
        self.bench, self.jobs = bench, jobs

    def info(self, _: Request) -> JSONResponse:
        """District, language, bounds, categories and the grades' legend."""
        saved = self.bench.saved
        bounds = self.bench.base.communities.to_crs(4326).total_bounds
        area = saved.summary.get("study_area_wgs84_bounds")
        return JSONResponse(
            {
                "district": saved.summary["district"],
                "lang": self.bench.lang,
                "bounds": area or [round(float(b), 6) for b in bounds],
                "categories": self.bench.categories(),
                "legend": legend(self.bench.lang),
                "official_communities": self.bench.base.official_communities,
                "max_actions": MAX_ACTIONS,
            }
        )

    def categories(self, _: Request) -> JSONResponse:
        """Every category with its rules."""
        return JSONResponse(self.bench.categories())

    async def network(self, _: Request) -> Response:
        """The walking network (the map's basemap) as int32 segments (``network_segments``)."""
        data = await run_in_threadpool(self.bench.network_segments)
        return Response(data, media_type="application/octet-stream")

    async def communities(self, _: Request) -> Response:
        """The communities as GeoJSON."""
        text = await run_in_threadpool(self.bench.communities_geojson)
        return Response(text, media_type="application/json")

    def layers(self, request: Request) -> JSONResponse:
        """A category's facilities and each community's grade as the analysis stands."""
        category = self.bench.category(request.query_params.get("category"))
        return JSONResponse(
            {
                "category": category,
                "facilities": self.bench.facilities(category),
                "grades": self.bench.grades(category),
                "main_rule": getattr(self.bench.main_rule(category), "id", None),
            }
        )

    async def score(self, request: Request) -> JSONResponse:
        """``GET /api/score?category=ID&lon=X&lat=Y[&crs=gcj02]``: score a site as the
        analysis stands; ``POST`` with the same query and a list of actions: in that scenario."""
        category, lon, lat = self._site(request)
        actions = _actions(await _json(request)) if request.method == "POST" else []
        score = await run_in_threadpool(self.bench.score, category, lon, lat, actions)
        return JSONResponse(score)

    def areas(self, request: Request) -> Response:
        """The site's 5/10/15-minute service areas (GeoJSON)."""
        category, lon, lat = self._site(request)
        return Response(self.bench.areas(category, lon, lat), media_type="application/json")

    def _site(self, request: Request) -> tuple[str, float, float]:
        """Category and WGS-84 position of the site a request names."""
        params = request.query_params
        category = self.bench.category(params.get("category"))
        lon, lat = _coordinate(params.get("lon"), "lon"), _coordinate(params.get("lat"), "lat")
        x, y = to_wgs84(lon, lat, _datum(params.get("crs", "wgs84")))
        return category, float(x[0]), float(y[0])

    async def scenario(self, request: Request) -> JSONResponse:
        """``POST /api/scenario`` with a list of actions (or ``{"actions": [...]}``)."""
        actions = _actions(await _json(request))
        view = await run_in_threadpool(lambda: self.bench.view(self.bench.scenario(actions)))
        return JSONResponse(view)

    async def plan(self, request: Request) -> JSONResponse:
        """``POST /api/plan?name=plan.csv&crs=gcj02`` with the file as the body: its actions
        (WGS-84), checked, and the datum they were in. Without ``crs``, a file placing sites
        in China must name its datum in a column (高德经度...), as ``circles compare`` asks."""
        name = request.query_params.get("name", "plan.csv")
        suffix = Path(name).suffix.lower()
        if suffix not in PLAN_SUFFIXES:
            raise BadRequest(say("out_plan_suffix", name=name, known=", ".join(PLAN_SUFFIXES)))
        given = request.query_params.get("crs")
        datum = None if given is None else _datum(given)
        body = await _body(request, MAX_UPLOAD)
        actions, datum = await run_in_threadpool(_read_plan, body, suffix, datum, name)
        result = await run_in_threadpool(self.bench.scenario, actions)  # checks every action
        actions_json = [action_json(a) for a in result.actions]
        return JSONResponse({"actions": actions_json, "crs": datum and datum.lower()})

    async def recommend(self, request: Request) -> JSONResponse:
        """``POST /api/recommend`` ``{"category", "k", "actions"}``: a job choosing K sites
        within the scenario (its walks as the starting point)."""
        body = await _json(request)
        if not isinstance(body, dict):
            raise BadRequest(say("out_expect_recommend"))
        category = self.bench.category(body.get("category"))
        k = body.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_SITES:
            raise BadRequest(say("out_k_range", max=MAX_SITES, k=k))
        actions = _actions(body.get("actions", []))
        result = await run_in_threadpool(self.bench.scenario, actions) if actions else None
        bench = self.bench

        def work(report: object) -> dict:
            dist = bench.point_dist(category, result)
            rec = recommend(bench.saved, category, k, dist=dist, progress=report)
            return {
                "sites": json.loads(rec.sites.to_json(orient="records")),
                "method": rec.method,
                "rule_id": rec.rule_id,
                "counted": rec.counted,
                "uncovered_before": round(rec.uncovered_before, 1),
                "uncovered_after": round(rec.uncovered_after, 1),
                "greedy_vs_exact": rec.greedy_vs_exact,
            }

        return JSONResponse(self.jobs.start(work).as_json(), status_code=202)

    def job(self, request: Request) -> JSONResponse:
        """A job's state (poll until ``done`` or ``failed``)."""
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            raise BadRequest(say("out_unknown_job", job=request.path_params["job"]), 404)
        return JSONResponse(job.as_json())

    async def export(self, request: Request) -> JSONResponse:
        """``POST /api/export`` ``{"folder", "actions", "crs"}``: write the scenario into a
        new folder."""
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("folder"), str):
            raise BadRequest(say("out_expect_export"))
        actions, datum = _actions(body.get("actions")), _datum(body.get("crs", "wgs84"))
        bench = self.bench

        def write() -> list[str]:
            result = bench.scenario(actions)
            with bench.lock, language(bench.lang):
                return export_folder(bench.base, result, body["folder"], datum, bench.lang)

        files = await run_in_threadpool(write)
        return JSONResponse({"folder": body["folder"], "files": files})

    async def download(self, request: Request) -> Response:
        """``POST /api/download/{csv|geojson|xlsx}`` ``{"actions", "crs"}``: one file."""
        kind = request.path_params["kind"]
        if kind not in ("csv", "geojson", "xlsx"):
            raise BadRequest(say("out_unknown_download", kind=kind), 404)
        body = await _json(request)
        raw = body.get("actions") if isinstance(body, dict) else body
        datum = _datum(body.get("crs", "wgs84") if isinstance(body, dict) else "wgs84")
        actions, bench = _actions(raw), self.bench

        def make() -> bytes:
            result = bench.scenario(actions)
            with bench.lock, language(bench.lang):
                if kind == "csv":
                    return scenario_csv(result, datum).encode("utf-8-sig")
                if kind == "geojson":
                    return scenario_geojson(bench.base, result).encode("utf-8")
                return compare_xlsx(bench.base, result, bench.lang)

        data = await run_in_threadpool(make)
        name = {"csv": "scenario.csv", "geojson": "scenario.geojson", "xlsx": "compare.xlsx"}
        headers = {"Content-Disposition": f'attachment; filename="{name[kind]}"'}
        return Response(data, headers=headers, media_type="application/octet-stream")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused when larger than ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(say("out_body_too_large", limit=limit), 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> object:
    """The request body as JSON (sent as ``application/json``)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(say("out_send_json"), 415)
    body = await _body(request, MAX_BODY)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(say("out_bad_json", error=exc)) from None


def _actions(raw: object) -> list[Action]:
    """Actions from a JSON list of ``{"action", "category", "lon", "lat", "facility_id",
    "name"}`` (or ``{"actions": [...]}``); their meaning is checked by the scenario."""
    if isinstance(raw, dict) and "actions" in raw:
        raw = raw["actions"]
    if not isinstance(raw, list):
        raise BadRequest(say("out_expect_actions"))
    if len(raw) > MAX_ACTIONS:
        raise BadRequest(say("out_api_too_many", n=len(raw), max=MAX_ACTIONS), 413)
    actions = []
    for i, item in enumerate(raw):
        label = say("out_action_n", n=i + 1)
        if not isinstance(item, dict):
            raise BadRequest(say("out_action_object", label=label, type=type(item).__name__))
        unknown = sorted(set(item) - ACTION_KEYS)
        if unknown:
            keys = ", ".join(sorted(ACTION_KEYS))
            raise BadRequest(say("out_action_field", label=label, field=unknown[0], keys=keys))
        texts = {k: item.get(k) for k in ("action", "category", "facility_id", "name")}
        for key, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise BadRequest(say("out_action_text", label=label, key=key, value=value))
        lon, lat = (
            None
            if item.get(k) is None
            else _coordinate(item[k], say("out_action_error", label=label, error=k))
            for k in ("lon", "lat")
        )
        kind, category, facility, name = texts.values()
        actions.append(Action(kind, category, lon, lat, facility, name, label=label))
    return actions


def _coordinate(value: object, name: str) -> float:
    """A longitude or latitude in degrees."""
    if value is None:
        raise BadRequest(say("out_value_missing", name=name))
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise BadRequest(say("out_value_number", name=name, value=value))
    bound = 180 if name.endswith("lon") else 90
    if abs(number) > bound:
        raise BadRequest(say("out_value_range", name=name, bound=bound, number=number))
    return number


def _datum(value: object) -> str:
    """A datum name the workbench reads: wgs84, gcj02 or bd09."""
    if value not in DATUMS:
        raise BadRequest(say("out_crs_choice", known=", ".join(DATUMS), value=value))
    return str(value)


def _read_plan(
    body: bytes, suffix: str, datum: str | None, name: str
) -> tuple[list[Action], str | None]:
    """An uploaded plan's actions and its datum: the file is read from a temporary folder,
    removed after."""
    with tempfile.TemporaryDirectory(prefix="circles-plan-") as folder:
        path = Path(folder) / f"plan{suffix}"
        path.write_bytes(body)
        try:
            actions, datum = read_plan_datum(path, datum)
        except CirclesError as exc:
            raise BadRequest(str(exc).replace(str(path), name)) from None
    return [replace(a, label=a.label.replace(str(path), name)) for a in actions], datum
