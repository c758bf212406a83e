"""Analyse many districts as independent tasks on a Dask cluster (local or remote)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import traceback
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from glob import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from circles._version import __version__
from circles.errors import CirclesError, InputError
from circles.folders import swap_into_place, write_manifest
from circles.messages import say

if TYPE_CHECKING:
    from distributed import Client, Future

    from circles.sources.planner_files import FileSpec, Problems, Table
    from circles.standards import Standards

log = logging.getLogger(__name__)

ATTEMPTS = 2  # a failed district is tried once more
MAX_LOCAL_WORKERS = 16
GIB_PER_LOCAL_WORKER = 2  # memory a worker is given at least on the default local cluster
BATCH_FILE = "batch.json"
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".kml", ".gml", ".zip"}
_NAME_SEPARATORS = re.compile(r"[,，、;；\n]+")
_UNSAFE = re.compile(r'[/\\:*?"<>|\s\x00-\x1f\x7f]+')
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
_EXTRA_NAME_COLUMNS = ("district", "district_name", "区", "区县", "县区", "行政区", "区县名称")


@dataclass(frozen=True)
class District:
    """One district of a batch: folder name, display name and WGS-84 polygon.

    ``code`` is set for a division of China (``find_division``); it is then analysed as
    ``analyze(district=code)``, exactly as ``circles analyze --district`` does.
    """

    slug: str
    name: str
    geometry: BaseGeometry
    code: str | None = None


@dataclass
class DistrictRun:
    """How one district went: ``status`` is ``ok`` or ``failed``."""

    name: str
    slug: str
    code: str | None
    status: str
    attempts: int
    seconds: float  # wall time of its attempts on the workers
    output: str | None  # the district's folder (only when ok)
    error: str | None = None
    errors: list[str] = field(default_factory=list)  # one per failed attempt
    traceback: str | None = None  # for an unexpected (non-input) error
    worker: str | None = None
    figures: dict = field(default_factory=dict)


def slugify(name: str) -> str:
    """A folder name for ``name``: Chinese kept; ``/\\:*?"<>|``, spaces and controls -> ``_``."""
    slug = _UNSAFE.sub("_", unicodedata.normalize("NFC", str(name)).strip()).strip("._")
    if len(slug) > 80:  # shortened, with a hash of the whole name so that two stay apart
        digest = hashlib.sha256(str(name).encode("utf-8")).hexdigest()[:8]
        slug = f"{slug[:70].rstrip('._')}-{digest}"
    if slug.lower() in _RESERVED or slug.lower() == BATCH_FILE:
        slug += "_"
    return slug


def _log_warning(text: str) -> None:
    log.warning("%s", text)


def parse_districts(
    text: str | Path, crs: str = "wgs84", warn: Callable[[str], None] = _log_warning
) -> list[District]:
    """The districts named by ``--districts``.

    ``text`` is a polygon file (GeoJSON, GeoPackage, Shapefile; options after ``::`` as in
    ``circles.sources.planner_files``, e.g. ``districts.gpkg::name=QXMC,crs=gcj02``) with a
    name column (名称/name/区…, else an id column), or names/codes of China's divisions separated by
    commas (``西青区,南开区`` or ``120111,120104``).

    Raises
    ------
    InputError
        Unreadable file, missing name column, unknown or ambiguous division, or two
        districts that would share an output folder.
    """
    text = str(text).strip()
    path = Path(text.partition("::")[0]).expanduser()
    if "::" in text or path.suffix.lower() in VECTOR_SUFFIXES or path.is_file():
        districts = _districts_from_file(text, crs, warn)
    else:
        districts = _districts_from_names(text)
    seen: dict[str, str] = {}
    clashes = []
    for d in districts:
        if d.slug.casefold() in seen:
            first = seen[d.slug.casefold()]
            clashes.append(say("run_clash", first=first, second=d.name, slug=d.slug))
        seen.setdefault(d.slug.casefold(), d.name)
    if clashes:
        listed = say("list_sep").join(clashes)
        raise InputError(say("run_districts_clash", text=text, clashes=listed))
    return districts


def _districts_from_names(text: str) -> list[District]:
    from circles.sources.divisions import find_division

    names = [n.strip() for n in _NAME_SEPARATORS.split(text) if n.strip()]
    if not names:
        raise InputError(say("run_districts_empty_text"))
    districts, errors = [], []
    for name in names:
        try:
            division = find_division(name)
        except InputError as exc:  # worded for analyze --district
            text = str(exc).replace("--district ", say("run_districts_option"), 1)
            errors.append(text.replace("--area FILE", say("run_districts_file")))
            continue
        districts.append(
            District(
                slugify(division.full_name), division.full_name, division.geometry, division.code
            )
        )
    if errors:
        raise InputError("\n".join(errors))
    return districts


def _districts_from_file(text: str, crs: str, warn: Callable[[str], None]) -> list[District]:
    from circles.sources.planner_files import (
        FileSpec,
        Problems,
        cell,
        polygons_from_table,
        read_table,
    )

    spec = FileSpec.parse(text)
    spec = FileSpec(spec.path.expanduser(), spec.options)
    problems = Problems()
    table = read_table(spec, problems)
    if table is None:
        problems.raise_errors()
    geoms, bad = polygons_from_table(table, spec, crs, problems, "districts")
    column = _name_column(table, spec, problems)
    if column is None:
        columns = list(table.frame.columns)
        problems.error(spec, say("run_no_name_column", columns=columns))
        problems.raise_errors()
    districts = []
    for i, (name, geom) in enumerate(zip(table.frame[column], geoms, strict=True)):
        if not isinstance(name, str) or not name.strip():
            problems.error(spec, say("run_district_name_missing"), **cell(table, i, column))
        elif not slugify(name):
            text = say("run_name_no_folder", name=name)
            problems.error(spec, text, **cell(table, i, column))
        elif not bad[i]:
            districts.append(District(slugify(name), name.strip(), geom))
    problems.raise_errors()
    for warning in problems.warnings:
        warn(str(warning))
    return districts


def _name_column(table: Table, spec: FileSpec, problems: Problems) -> str | None:
    """The column naming the districts: a name column (名称/区…), else an id column."""
    from circles.sources.planner_files import find_column, normalise

    column = find_column(table, spec, "name", problems)
    if column is None:
        by_norm = {normalise(c): c for c in table.frame.columns}
        column = next(
            (by_norm[normalise(n)] for n in _EXTRA_NAME_COLUMNS if normalise(n) in by_norm), None
        )
    return column or find_column(table, spec, "id", problems)


def district_populations(
    population: float | str | None, districts: Sequence[District]
) -> dict[str, float]:
    """The official population of each district (by slug) from batch ``--population``.

    A number only with a single district; else a table (CSV, XLSX or vector file) with a
    district name (or code) column and a population column (常住人口/人口/population), e.g.
    ``人口.csv::population=常住人口``, holding every district.

    Raises
    ------
    InputError
        A number with several districts, a bad file, or a district the file does not hold.
    """
    from circles.pipeline import check_population
    from circles.sources.planner_files import FileSpec

    if population is None:
        return {}
    spec = FileSpec.parse(population) if isinstance(population, str | Path) else None
    if spec is None or not spec.path.expanduser().is_file():
        total = check_population(population)
        if len(districts) > 1:
            msg = say("run_population_one_total", value=population, n=len(districts))
            raise InputError(msg)
        return {districts[0].slug: total}
    return _populations_from_file(FileSpec(spec.path.expanduser(), spec.options), districts)


def _populations_from_file(spec: FileSpec, districts: Sequence[District]) -> dict[str, float]:
    """Each district's population from a table of names (or codes) and populations."""
    from circles.sources.planner_files import Problems, find_column, numbers, read_table

    problems = Problems()
    table = read_table(spec, problems)
    problems.raise_errors()
    name = _name_column(table, spec, problems)
    column = find_column(table, spec, "population", problems)
    if name is None or column is None:
        columns = list(table.frame.columns)
        problems.error(spec, say("run_population_columns", columns=columns))
    problems.raise_errors()
    values = numbers(table, column, spec, problems, required=True, what="a population")
    problems.raise_errors()
    by_key = {}
    for key, value in zip(table.frame[name].astype(str).str.strip(), values, strict=True):
        by_key[key] = by_key[slugify(key)] = float(value)
    found, missing = {}, []
    for d in districts:
        keys = [k for k in (d.name, d.slug, d.code) if k is not None and k in by_key]
        if keys:
            found[d.slug] = by_key[keys[0]]
        else:
            missing.append(d.name)
    if missing:
        names = say("run_name_sep").join(missing)
        raise InputError(say("run_population_missing", file=spec, names=names))
    return found


@dataclass(frozen=True)
class _Options:
    """``analyze`` options checked on the client, with absolute paths for the workers."""

    standards: str | None
    lang: str
    facilities: tuple
    communities: object
    boundaries: object
    crs: str
    buffer_m: float | None
    cache: bool = True
    authoritative: tuple = ()
    populations: tuple = ()  # (slug, official population) per district from --population
    strict: bool = False  # rows of the planner's files without coordinates are errors

    def analyze_kwargs(self) -> dict:
        return {
            "standards": self.standards,
            "lang": self.lang,
            "facilities": self.facilities,
            "communities": self.communities,
            "boundaries": self.boundaries,
            "crs": self.crs,
            "buffer_m": self.buffer_m,
            "cache": self.cache,
            "authoritative": self.authoritative,
            "strict": self.strict,
        }


def _check_osm(osm: str | Path) -> Path:
    path = Path(osm).expanduser().absolute()
    if not path.is_file():
        raise InputError(say("run_osm_not_found", file=osm))
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(say("run_osm_unreadable", file=osm, reason=exc)) from None
    from circles.sources.osm import check_extract

    return check_extract(path)


def _check_options(
    standards: str | Path | None = None,
    lang: str = "zh",
    facilities: Sequence[object] = (),
    communities: object = None,
    boundaries: object = None,
    crs: str = "wgs84",
    buffer_m: float | None = None,
    cache: bool = True,
    authoritative: Sequence[str] = (),
    strict: bool = False,
    warn: Callable[[str], None] = _log_warning,
) -> _Options:
    """Read every input once on the client so that input errors stop the batch up front;
    ``warn`` is given the files' warnings."""
    from circles.pipeline import with_authoritative
    from circles.standards import load_standards, profile_path

    _check_values(lang, buffer_m)
    if standards is not None:
        standards = str(profile_path(standards).absolute())
    loaded = load_standards(standards)  # without --standards each district picks its profile
    with_authoritative(loaded, authoritative)
    files = _read_inputs(loaded, facilities, communities, boundaries, crs, strict, warn)
    authoritative = tuple(authoritative)
    return _Options(standards, lang, *files, crs, buffer_m, cache, authoritative, strict=strict)


def _check_values(lang: str, buffer_m: float | None) -> None:
    """Raise ``InputError`` for a language other than zh/en or a negative buffer."""
    if lang not in ("zh", "en"):
        raise InputError(say("run_lang_bad", lang=lang))
    if buffer_m is not None:
        from circles.pipeline import check_buffer

        check_buffer(buffer_m)


def _absolute(source: object) -> FileSpec:
    """A planner file spec (``path::options``) with its path made absolute for the workers."""
    from circles.sources.planner_files import FileSpec

    spec = FileSpec.parse(source)  # type: ignore[arg-type]
    return FileSpec(spec.path.expanduser().absolute(), spec.options)


def _read_inputs(
    standards: Standards,
    facilities: Sequence[object],
    communities: object,
    boundaries: object,
    crs: str,
    strict: bool = False,
    warn: Callable[[str], None] = _log_warning,
) -> tuple[tuple[FileSpec, ...], FileSpec | None, FileSpec | None]:
    """The planner files with absolute paths, each read once; their warnings are given to
    ``warn`` (with ``strict``, rows without coordinates are errors instead).

    Raises
    ------
    InputError
        Every problem found in the files.
    """
    from circles.sources.planner_files import (
        Problems,
        read_boundaries,
        read_communities,
        read_facilities,
    )

    problems = Problems(strict=strict)
    facility_specs = tuple(_absolute(f) for f in facilities)
    for spec in facility_specs:
        read_facilities(spec, standards, crs, None, problems)
    community_spec = boundary_spec = None
    if communities is not None:
        community_spec = _absolute(communities)
        read_communities(community_spec, crs, problems)
    if boundaries is not None:
        boundary_spec = _absolute(boundaries)
        units = read_boundaries(boundary_spec, crs, problems)
        if (units["level"] == "district").sum() > 1:
            problems.error(boundary_spec, say("run_batch_district_polygons"))
    problems.raise_errors()
    for warning in problems.warnings:
        warn(str(warning))
    return facility_specs, community_spec, boundary_spec


def _run_district(osm: str, district: District, out_dir: str, options: _Options) -> dict:
    """One task, run on a worker: analyse a district into a hidden partial folder.

    Never raises: the outcome (partial folder and figures, or the error) is returned, and the
    client renames the partial folder into place. A failed attempt removes its folder.
    """
    started = time.perf_counter()
    worker = None
    with contextlib.suppress(Exception):
        from distributed import get_worker

        worker = get_worker().address
    partial = None
    try:
        from circles.pipeline import analyze
        from circles.present.tables import write_analysis_files

        partial = Path(out_dir) / f".{district.slug}.partial-{uuid.uuid4().hex[:8]}"
        partial.mkdir()  # with the umask's permissions, unlike mkdtemp
        kwargs = options.analyze_kwargs()
        kwargs["population"] = dict(options.populations).get(district.slug)
        if district.code is not None:
            result = analyze(osm, district=district.code, district_name=district.name, **kwargs)
        else:
            result = analyze(osm, area=district.geometry, district_name=district.name, **kwargs)
        write_analysis_files(result, partial)
        write_manifest(partial, "batch", result.inputs)
        summary = json.loads((partial / "summary.json").read_text(encoding="utf-8"))
        return {
            "ok": True,
            "partial": str(partial),
            "figures": figures(summary),
            "seconds": time.perf_counter() - started,
            "worker": worker,
        }
    except Exception as exc:  # the client reports it and tries once more
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
        expected = isinstance(exc, CirclesError)
        return {
            "ok": False,
            "error": str(exc) if expected else f"{type(exc).__name__}: {exc}",
            "traceback": None if expected else traceback.format_exc(),
            "seconds": time.perf_counter() - started,
            "worker": worker,
        }


def figures(summary: dict) -> dict:
    """Key figures of a district's ``summary.json`` for the batch table."""
    rules = [r for c in summary["categories"] for r in c["rules"].values()]
    return {
        "standards": summary["standards"]["profile"],
        "communities": summary["communities"]["count"],
        "population": summary["communities"]["population"],
        "population_estimated": summary["communities"]["population_estimated"],
        "calibrated_by": summary.get("population", {}).get("calibrated_by"),
        "calibration_factor": summary.get("population", {}).get("calibration_factor"),
        "facilities": sum(c["facilities"] for c in summary["categories"]),
        "rules_pass": sum(r.get("district_status") == "pass" for r in rules),
        "rules_fail": sum(r.get("district_status") == "fail" for r in rules),
        "rules_no_data": sum(r.get("district_status") == "no_data" for r in rules),
        "no_data_categories": len(summary["no_data_categories"]),
        "network_nodes": summary["network"]["nodes"],
        "warnings": len(summary["warnings"]),
    }


def local_workers(n_districts: int) -> int:
    """Workers of the default local cluster: one per CPU, capped by districts and memory."""
    import psutil

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    by_memory = psutil.virtual_memory().total // (GIB_PER_LOCAL_WORKER * 2**30)
    return max(1, min(cpus, n_districts, MAX_LOCAL_WORKERS, by_memory))


@contextlib.contextmanager
def _connect(scheduler: str | Client | None, n_workers: int) -> Iterator[Client]:
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port; a page only if bokeh is installed
        )
        with cluster, Client(cluster, set_as_default=False) as client:
            log.info("local cluster of %d workers, dashboard %s", n_workers, cluster.dashboard_link)
            yield client
        return
    try:
        client = Client(scheduler, set_as_default=False, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        msg = say("run_scheduler_unreachable", address=scheduler, reason=exc)
        raise InputError(msg) from None
    with client:
        yield client


def run_batch(
    osm: str | Path,
    districts: str | Path | Sequence[District],
    out_dir: str | Path,
    scheduler: str | Client | None = None,
    n_workers: int | None = None,
    on_done: Callable[[DistrictRun], None] | None = None,
    on_warning: Callable[[str], None] = _log_warning,
    **analyze_options: Any,
) -> list[DistrictRun]:
    """Analyse each district as a task, write ``out_dir/<slug>/`` and ``out_dir/batch.json``.

    Parameters
    ----------
    osm
        OSM extract covering every district; workers read it at the same (absolute) path.
    districts
        ``--districts`` text (see ``parse_districts``) or parsed districts.
    out_dir
        Output folder, also read by the workers at the same path.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``) or a ``Client``; default a
        local cluster of ``n_workers`` processes (default ``local_workers``).
    on_done
        Called on the client as each district finishes.
    on_warning
        Given each warning about the input files found on the client (default: logged).
    **analyze_options
        ``standards``, ``lang``, ``facilities``, ``communities``, ``boundaries``, ``crs``,
        ``buffer_m``, ``cache``, ``authoritative``, ``strict`` as in ``analyze`` (each worker
        host has its own cache); ``population`` as in ``district_populations``.

    Returns
    -------
    list[DistrictRun]
        In the order of ``districts``.

    Raises
    ------
    InputError
        An input error found before any task is submitted.
    """
    started = time.perf_counter()
    osm = _check_osm(osm)
    districts = _check_districts(districts, analyze_options.get("crs", "wgs84"), on_warning)
    populations = district_populations(analyze_options.pop("population", None), districts)
    options = _check_options(**analyze_options, warn=on_warning)
    options = replace(options, populations=tuple(populations.items()))
    out = _check_out(out_dir)
    if n_workers is not None and n_workers < 1:
        raise InputError(say("run_workers_bad", n=n_workers))
    address, runs = _run_on_cluster(
        scheduler, n_workers, osm, districts, out, out_dir, options, on_done
    )
    _write_report(out, osm, address, options, runs, time.perf_counter() - started)
    return runs


def _check_districts(
    districts: str | Path | Sequence[District], crs: str, warn: Callable[[str], None]
) -> list[District]:
    """The districts, parsed from ``--districts`` text; ``InputError`` when there are none."""
    if isinstance(districts, str | Path):
        districts = parse_districts(districts, crs, warn)
    districts = list(districts)
    if not districts:
        raise InputError(say("run_no_districts"))
    return districts


def _check_out(out_dir: str | Path) -> Path:
    """The output folder, resolved; ``InputError`` when it is a file."""
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InputError(say("run_out_not_folder", folder=out_dir))
    return out


def _run_on_cluster(
    scheduler: str | Client | None,
    n_workers: int | None,
    osm: Path,
    districts: list[District],
    out: Path,
    out_given: str | Path,
    options: _Options,
    on_done: Callable[[DistrictRun], None] | None,
) -> tuple[str, list[DistrictRun]]:
    """Connect, make the output folder and run every district: the scheduler's address, runs.

    ``out_given`` is the folder as the user gave it, for messages. Partial folders are removed
    before and after, also when the run is interrupted.
    """
    try:
        with _connect(scheduler, n_workers or local_workers(len(districts))) as client:
            address = client.scheduler.address
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = say("run_cannot_create_out", folder=out_given, reason=exc)
                raise InputError(msg) from None
            _remove_partials(out, districts)
            runs = _run_all(client, osm, districts, out, options, on_done)
    finally:
        if out.is_dir():  # partial folders left by a worker that died or an interrupted run
            _remove_partials(out, districts)
    return address, runs


def _run_all(
    client: Client,
    osm: Path,
    districts: list[District],
    out: Path,
    options: _Options,
    on_done: Callable[[DistrictRun], None] | None,
) -> list[DistrictRun]:
    """Run every district as a task, a failed one once more; finish each as it completes."""
    from distributed import as_completed

    tasks = _Tasks(client, osm, districts, out, options)
    runs: list[DistrictRun | None] = [None] * len(districts)
    queue = as_completed([tasks.submit(i) for i in range(len(districts))], loop=client.loop)
    for future in queue:
        i = tasks.collect(future)
        if tasks.retry(i):
            queue.add(tasks.submit(i))
            continue
        runs[i] = _finish(out, districts[i], tasks.attempts[i])
        if on_done is not None:
            on_done(runs[i])
    return [r for r in runs if r is not None]


class _Tasks:
    """The district tasks of a batch on ``client``, and the outcome of every attempt."""

    def __init__(
        self, client: Client, osm: Path, districts: list[District], out: Path, options: _Options
    ) -> None:
        self.client, self.osm, self.districts = client, osm, districts
        self.out, self.options = out, options
        self.attempts: list[list[dict]] = [[] for _ in districts]  # one outcome per attempt
        self.token = uuid.uuid4().hex[:8]
        self.index: dict[str, int] = {}  # future key -> district position

    def submit(self, i: int) -> Future:
        """Submit the next attempt of district ``i``."""
        key = f"circles-district-{i}-attempt-{len(self.attempts[i]) + 1}-{self.token}"
        future = self.client.submit(
            _run_district,
            str(self.osm),
            self.districts[i],
            str(self.out),
            self.options,
            key=key,
            pure=False,
        )
        self.index[future.key] = i
        return future

    def collect(self, future: Future) -> int:
        """Record the outcome of a finished attempt (logged when failed); its district."""
        i = self.index.pop(future.key)
        try:
            outcome = future.result()
        except Exception as exc:  # the worker died, or the task could not run
            outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "seconds": 0.0}
            outcome["traceback"] = "".join(traceback.format_exception(exc))
        future.release()
        self.attempts[i].append(outcome)
        if not outcome["ok"]:
            failed = say(
                "run_attempt_failed",
                name=self.districts[i].name,
                attempt=len(self.attempts[i]),
                attempts=ATTEMPTS,
                error=outcome["error"],
            )
            log.warning("%s", failed)
        return i

    def retry(self, i: int) -> bool:
        """Whether district ``i`` failed its last attempt and has one left."""
        return not self.attempts[i][-1]["ok"] and len(self.attempts[i]) < ATTEMPTS


def _finish(out: Path, district: District, attempts: list[dict]) -> DistrictRun:
    """Move a complete result into ``out/<slug>``; after a failure leave no folder there."""
    last = attempts[-1]
    final = out / district.slug
    run = DistrictRun(
        name=district.name,
        slug=district.slug,
        code=district.code,
        status="ok" if last["ok"] else "failed",
        attempts=len(attempts),
        seconds=round(sum(a["seconds"] for a in attempts), 2),
        output=None,
        errors=[a["error"] for a in attempts if not a["ok"]],
        worker=last.get("worker"),
    )
    if last["ok"]:
        try:
            _replace(Path(last["partial"]), final)
        except OSError as exc:
            run.status = "failed"
            run.error = say("run_cannot_move", folder=final, reason=exc)
            shutil.rmtree(last["partial"], ignore_errors=True)
        else:
            run.output = str(final)
            run.figures = last["figures"]
    else:
        run.error = last["error"]
        run.traceback = last.get("traceback")
    if run.status == "failed":
        _replace(None, final)  # an earlier run's folder would pass for this run's result
    return run


def _replace(new: Path | None, final: Path) -> None:
    """Put ``new`` at ``final`` in one step (``None``: remove ``final``), never a mix of two."""
    if new is not None:
        swap_into_place(new, final)
        return
    if final.exists() or final.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent)) / "x"
        final.rename(old)
        shutil.rmtree(old.parent, ignore_errors=True)


def _remove_partials(out: Path, districts: Sequence[District]) -> None:
    for d in districts:
        for kind in ("partial", "old"):
            for stale in out.glob(f".{escape(d.slug)}.{kind}-*"):
                shutil.rmtree(stale, ignore_errors=True)


def _write_report(
    out: Path,
    osm: Path,
    scheduler: str | None,
    options: _Options,
    runs: list[DistrictRun],
    seconds: float,
) -> None:
    from circles.present.tables import atomic_write

    report = {
        "circles_version": __version__,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "osm": str(osm),
        "scheduler": scheduler,
        "options": {k: v for k, v in options.analyze_kwargs().items() if k != "facilities"}
        | {"facilities": [str(f) for f in options.facilities]}
        | ({"population": dict(options.populations)} if options.populations else {}),
        "wall_time_s": round(seconds, 2),
        "ok": sum(r.status == "ok" for r in runs),
        "failed": sum(r.status == "failed" for r in runs),
        "districts": [asdict(r) for r in runs],
    }
    text = json.dumps(report, ensure_ascii=False, indent=2, default=str)
    atomic_write(out / BATCH_FILE, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _basis(f: dict) -> str:
    """What a district's population rests on: official, or an estimate and its calibration."""
    if not f:
        return ""
    if not f["population_estimated"]:
        return say("pop_official")
    if not f.get("calibrated_by"):
        return say("basis_uncalibrated")
    factor = f.get("calibration_factor")
    by = f["calibrated_by"]
    return say("basis_scaled", factor=factor, by=by) if factor else by


def format_table(runs: Sequence[DistrictRun]) -> str:
    """The runs as an aligned text table (Chinese characters count double)."""
    header = say("batch_header").split("|")
    rows = [header]
    for r in runs:
        f = r.figures
        rows.append(
            [
                r.name,
                say(f"status_{r.status}"),
                str(f.get("standards", "")),
                str(r.attempts),
                f"{r.seconds:.1f}",
                str(f.get("communities", "")),
                f"{f['population']:,}" if "population" in f else "",
                _basis(f),
                f"{f['rules_fail']}/{f['rules_fail'] + f['rules_pass']}" if f else "",
            ]
        )
    widths = [max(_width(row[c]) for row in rows) for c in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell + " " * (w - _width(cell)) if c < 3 else " " * (w - _width(cell)) + cell
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    for r in runs:
        if r.status == "failed":
            lines.append(say("batch_error", name=r.name, error=r.error))
    return "\n".join(lines)
