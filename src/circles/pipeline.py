"""The analysis as a pipeline of named stages: planner inputs -> OSM -> network -> facilities
-> residents -> access -> rules -> the ``Analysis`` record."""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from circles._version import __version__
from circles.access.attach import Attachment, Streets, network_streets
from circles.access.graph import routing_graph
from circles.access.search import CategoryAccess, nearest_facility
from circles.access.state import AccessState
from circles.errors import EmptyAreaError, InputError
from circles.messages import language, say, tr
from circles.model.communities import (
    buildings_from_osm,
    calibrate,
    calibrate_streets,
    communities_from_osm,
    estimate_population,
    homes_outside,
    spread_population,
    uninhabited_areas,
)
from circles.model.facilities import (
    OUTLINE,
    facilities_from_osm,
    facility_entrances,
    merge_facilities,
    similar_names,
)
from circles.model.network import Network, network_from_extract
from circles.result import Analysis
from circles.rules.evaluate import evaluate_rules
from circles.rules.summary import completeness_warnings, summarise
from circles.sources.divisions import find_division
from circles.sources.osm import (
    WGS84,
    OsmExtract,
    file_sha256,
    is_water,
    parse_area,
    read_extract,
)
from circles.sources.planner_files import (
    FileSpec,
    Problems,
    category_labels,
    check_datum,
    normalise,
    read_boundaries,
    read_communities,
    read_facilities,
)
from circles.standards import (
    Lang,
    PopulationSettings,
    Standards,
    load_standards,
    profile_for_division,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
FacilitySource = str | Path | FileSpec | gpd.GeoDataFrame


def feature_keys(standards: Standards) -> set[str]:
    """Tag keys that make an OSM object worth keeping as a feature."""
    keys = {"name", "name:zh", "building", "landuse", "entrance", "barrier"}
    for cat in standards.categories.categories:
        for selector in cat.tags:
            keys.update(selector)
    return keys


class Stopwatch:
    """Times the pipeline's stages: the one place ``timings_s`` comes from."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, stage: str, func: Callable[..., T], *args: object) -> T:
        """Run one stage and record its wall time."""
        started = time.perf_counter()
        out = func(*args)
        self.timings[stage] = round(time.perf_counter() - started, 3)
        log.info("%s done in %.2f s", stage, self.timings[stage])
        return out


def analyze(
    osm: str | Path,
    area: str | Path | BaseGeometry | None = None,
    standards: Standards | str | Path | None = None,
    lang: Lang = "zh",
    district_name: str | None = None,
    facilities: Sequence[FacilitySource] = (),
    cache: bool = True,
    *,
    district: str | None = None,
    buffer_m: float | None = None,
    communities: str | Path | FileSpec | None = None,
    boundaries: str | Path | FileSpec | None = None,
    crs: str | None = None,
    authoritative: Sequence[str] = (),
    population: float | str | None = None,
    strict: bool = False,
) -> Analysis:
    """Analyse walking access to every facility category in a district.

    Parameters
    ----------
    osm
        OSM extract (.osm, .osm.bz2, .osm.gz, .osm.pbf).
    area
        Study area: ``minlon,minlat,maxlon,maxlat``, a polygon file or a geometry; default
        the extract's data bounds.
    standards
        A ``Standards`` object, a shipped profile's name (``national``, ``xiqing``…) or a YAML
        file; default the profile written for ``district``, else ``national``.
    lang
        Language of names in outputs: ``zh`` (default) or ``en``.
    district_name
        Name of the district; default the division's name, else the extract's file name.
    facilities
        Planners' facility files (``FileSpec`` or ``path::options``, see
        ``circles.sources.planner_files``) or GeoDataFrames of points with ``category_id``
        (and optionally ``name``, ``capacity``, ``area_m2``), merged with the OSM facilities.
    cache
        Reuse the parsed extract and built network of an earlier run on the same file and
        settings (see ``circles.sources.cache``).
    district
        A district of China by name or code (西青区, 天津市西青区, 120111) as the study area.
    buffer_m
        Facilities and streets are read this far beyond the study area, so that residents near
        its edge reach facilities across it; default the largest walking threshold.
    communities
        Planner's communities with official population (replace the OSM-derived ones).
    boundaries
        Planner's street (街道), village (村) and district boundaries for rules per street or
        village.
    crs
        Coordinates of the planners' files: ``wgs84``, ``gcj02``, ``bd09`` or ``EPSG:xxxx``
        (a file's own option or CRS comes first); ``None``: not stated, an error for a table
        of points inside China.
    authoritative
        Categories (ids or names) whose OSM data the planner has checked: a gap in them is a
        real gap, as for a category the planner's own files cover.
    strict
        Rows of the planner's files without coordinates are errors, not skipped.
    population
        An official total for the study area (e.g. 第七次人口普查 for the district): every
        community and demand point is scaled so that the study area sums to it.

    Returns
    -------
    Analysis

    Raises
    ------
    InputError
        Any error in the input files, listed with file, row and column.
    """
    with language(lang):  # notes and warnings in the run's language
        given = read_planner_inputs(
            area,
            district,
            district_name,
            facilities,
            communities,
            boundaries,
            crs,
            population,
            strict=strict,
        )
        standards = with_authoritative(choose_standards(standards, given, lang), authoritative)
        buffer_m = default_buffer_m(standards) if buffer_m is None else check_buffer(buffer_m)
        clock = Stopwatch()
        extract = clock.run("read_osm", read_osm, osm, standards, given.study_area, buffer_m, cache)
        network = clock.run("network", network_from_extract, extract, standards.network, cache)
        area = study_area_in(network, extract, given.study_area, buffer_m)
        study_area_m = area.metric
        found = clock.run("facilities", find_facilities, extract, network, standards, given)
        people = clock.run(
            "communities", place_residents, extract, network, study_area_m, standards, given
        )
        access = clock.run("access", search_access, network, found, people, study_area_m, standards)
        unit = (*given.district_of(extract), study_area_m)
        results = clock.run("rules", judge, standards, people, access, unit, given, network)
        stages = Stages(given, extract, network, found, people, access, unit, results, area)
        return assemble(stages, standards, lang, buffer_m, clock.timings)


@dataclass
class PlannerInputs:
    """The study area and the planner's files, read and checked before OSM is read."""

    study_area: BaseGeometry | None  # WGS-84; None: the extract's data bounds
    district_id: str | None
    district_name: str | None
    units: gpd.GeoDataFrame | None  # the planner's boundaries (streets, villages, a district)
    communities: gpd.GeoDataFrame | None
    communities_spec: FileSpec | None
    boundaries_spec: FileSpec | None
    problems: Problems
    crs: str | None
    facility_sources: list[FacilitySource]
    area_file: Path | None = None  # the --area polygon file, if one was given
    population: float | None = None  # --population: the official total of the study area
    population_from: str = "--population"  # or the district polygon's count in --boundaries
    division_code: str | None = None  # --district's GB/T 2260 code
    standards_chosen_by: str = "given"  # or "district" (--district chose it), "default"

    def district_of(self, extract: OsmExtract) -> tuple[str, str]:
        """The district's id and name (default: the extract's file name)."""
        district_id = self.district_id or Path(extract.path).name.split(".")[0]
        return district_id, self.district_name or district_id

    @property
    def facility_specs(self) -> list[FileSpec]:
        """The facility files given (not GeoDataFrames)."""
        return [f for f in self.facility_sources if isinstance(f, FileSpec)]

    def paths(self, osm: Path) -> list[Path]:
        """Every input file: outputs never overwrite these."""
        specs = [*self.facility_specs, self.communities_spec, self.boundaries_spec]
        area = [] if self.area_file is None else [self.area_file]
        return [osm, *area, *(s.path for s in specs if s is not None)]

    @property
    def streets(self) -> gpd.GeoDataFrame | None:
        """The planner's street (街道) units, if given."""
        return None if self.units is None else self.units[self.units["level"] == "street"]

    @property
    def villages(self) -> gpd.GeoDataFrame | None:
        """The planner's village (行政村) units, if given."""
        return None if self.units is None else self.units[self.units["level"] == "village"]


def read_planner_inputs(
    area: str | Path | BaseGeometry | None,
    district: str | None,
    district_name: str | None,
    facilities: Sequence[FacilitySource],
    communities: str | Path | FileSpec | None,
    boundaries: str | Path | FileSpec | None,
    crs: str | None,
    population: float | str | None = None,
    *,
    strict: bool = False,
) -> PlannerInputs:
    """Stage 0: the study area (from ``area``, ``district`` or a district boundary), the
    planner's communities and boundaries and ``--population``, read and checked; every error
    raised at once."""
    population = None if population is None else check_population(population)
    problems = Problems(strict=strict)
    communities_spec = None if communities is None else FileSpec.parse(communities)
    boundaries_spec = None if boundaries is None else FileSpec.parse(boundaries)
    study_area, district_id, division_code = parse_area(area), None, None
    if district is not None:
        if study_area is not None:
            raise InputError(say("run_district_and_area"))
        division = find_division(district)
        study_area, district_id = division.geometry, division.code
        district_name = district_name or division.full_name
        division_code = division.code
    units = None
    if boundaries_spec is not None:
        units = read_boundaries(boundaries_spec, crs, problems)
        study_area, district_id, district_name = _district_from_units(
            units, boundaries_spec, problems, (study_area, district_id, district_name)
        )
    planner_communities = (
        None if communities_spec is None else read_communities(communities_spec, crs, problems)
    )
    problems.raise_errors()
    population_from = "--population"
    estimated = planner_communities is None  # official communities are never rescaled
    if population is None and estimated and study_area is not None and units is not None:
        population = _district_population(units, study_area)  # the district polygon's count
        population_from = f"{boundaries_spec.path.name} 常住人口"
    inputs = PlannerInputs(
        study_area,
        district_id or district_name,
        district_name,
        units,
        planner_communities,
        communities_spec,
        boundaries_spec,
        problems,
        crs,
        [f if isinstance(f, gpd.GeoDataFrame) else FileSpec.parse(f) for f in facilities],
        Path(area) if isinstance(area, str | Path) and Path(area).is_file() else None,
        population,
    )
    inputs.population_from = population_from
    inputs.division_code = division_code
    return inputs


def choose_standards(
    standards: Standards | str | Path | None, given: PlannerInputs, lang: Lang = "zh"
) -> Standards:
    """The standards of a run: those given (a profile's name or file), else the shipped profile
    written for ``--district`` (logged), else national. A profile whose ``applies_to`` leaves
    out the district gets a warning naming the one that fits."""
    code = given.division_code
    if isinstance(standards, Standards):
        chosen = standards
    elif standards is None and code is not None:
        chosen = profile_for_division(code)
        given.standards_chosen_by = "district"
        text = tr("profile_by_district", lang)
        log.info(text.format(district=given.district_name, profile=chosen.profile))
    else:
        chosen = load_standards(standards)
        given.standards_chosen_by = "given" if standards is not None else "default"
    if code is not None and chosen.match(code) is None:
        fits = profile_for_division(code).profile
        text = tr("profile_outside", lang).format(
            profile=chosen.profile,
            district=given.district_name,
            codes=", ".join(chosen.applies_to),
            fits=fits,
        )
        given.problems.warning(chosen.path, text)
    return chosen


def _district_population(units: gpd.GeoDataFrame, study_area: BaseGeometry) -> float | None:
    """The official population of the boundaries' district polygon, when it is the study area
    (a total for the whole study area, as ``--population`` would give)."""
    districts = units[units["level"] == "district"]
    if len(districts) != 1 or "population" not in districts:
        return None
    value = pd.to_numeric(districts["population"], errors="coerce").iloc[0]
    same = districts.geometry.iloc[0].equals(study_area)
    return float(value) if same and np.isfinite(value) and value > 0 else None


def check_population(population: float | str) -> float:
    """An official population checked to be a number of residents above 0.

    Raises
    ------
    InputError
        Not a number, not finite, zero or negative.
    """
    try:
        value = float(str(population).replace(",", "").replace("_", "").strip())
    except ValueError:
        value = np.nan
    if not (np.isfinite(value) and value > 0):
        raise InputError(say("run_population_bad", value=population))
    return value


def _district_from_units(
    units: gpd.GeoDataFrame,
    spec: FileSpec,
    problems: Problems,
    current: tuple[BaseGeometry | None, str | None, str | None],
) -> tuple[BaseGeometry | None, str | None, str | None]:
    """The district polygon of a boundaries file as the study area, when none was given."""
    study_area, district_id, district_name = current
    districts = units[units["level"] == "district"]
    if len(districts) > 1:
        problems.error(spec, say("run_several_districts", n=len(districts)))
    elif len(districts) == 1 and study_area is None:
        study_area = districts.geometry.iloc[0]
        district_id = str(districts["unit_id"].iloc[0])
        district_name = district_name or districts["name"].iloc[0]
    return study_area, district_id, district_name


def check_buffer(buffer_m: float) -> float:
    """A buffer distance checked to be a finite number of metres, at least 0."""
    if not (np.isfinite(buffer_m) and buffer_m >= 0):
        raise InputError(say("run_buffer_bad", value=buffer_m))
    return float(buffer_m)


def with_authoritative(standards: Standards, categories: Sequence[str]) -> Standards:
    """The standards with more categories marked authoritative (ids, Chinese names or
    aliases); an unknown one is an error with the closest name suggested."""
    if not categories:
        return standards
    labels = category_labels(standards)
    ids = []
    for text in categories:
        cat_id = labels.get(normalise(text))
        if cat_id is None:
            close = difflib.get_close_matches(str(text), list(labels), n=1)
            hint = say("run_did_you_mean", name=close[0]) if close else ""
            raise InputError(say("run_authoritative_unknown", text=text, hint=hint))
        ids.append(cat_id)
    merged = sorted({*standards.analysis.authoritative, *ids})
    analysis = standards.analysis.model_copy(update={"authoritative": merged})
    return standards.model_copy(update={"analysis": analysis})


def default_buffer_m(standards: Standards) -> float:
    """How far beyond the study area to read: the largest walking threshold."""
    return max((standards.threshold_m(r) for r in standards.access_rules()), default=0)


def read_osm(
    osm: str | Path,
    standards: Standards,
    study_area: BaseGeometry | None,
    buffer_m: float,
    cache: bool,
) -> OsmExtract:
    """Stage 1: the extract, read over the study area grown by ``buffer_m`` (the read area)."""
    read_area = None if study_area is None else _buffer(study_area, buffer_m)
    return read_extract(osm, feature_keys(standards), read_area, cache=cache)


@dataclass
class StudyArea:
    """The study area (metric), the units left out at the extract's edge, and warnings."""

    metric: BaseGeometry
    edge_units: pd.DataFrame  # id and name of OSM compounds in the edge band
    warnings: list[str]


def study_area_in(
    network: Network, extract: OsmExtract, study_area: BaseGeometry | None, buffer_m: float
) -> StudyArea:
    """The study area in the network's metric CRS.

    Given: the part inside the extract (a warning when that is less than all of it). Not
    given: the extract shrunk by the buffer, so that every resident judged can reach across
    the buffer; the compounds in the band are listed as edge units (边缘（未评估）).
    """
    no_edge = pd.DataFrame({"community_id": [], "name": []})
    if study_area is not None:
        inside = shapely.intersection(study_area, extract.bounds)  # WGS-84, before projecting
        share = inside.area / study_area.area if study_area.area > 0 else 1.0
        warnings = [] if share >= 0.99 else [_partly_outside(share, extract)]
        metric = shapely.intersection(_to(inside, network.crs), network.read_area_m)
        return StudyArea(metric, no_edge, warnings)
    inner = shapely.buffer(network.read_area_m, -buffer_m)
    if buffer_m <= 0 or inner.is_empty or inner.area < 0.1 * network.read_area_m.area:
        small = say("extract_too_small", buffer=buffer_m)
        return StudyArea(network.read_area_m, no_edge, [small] if buffer_m > 0 else [])
    edge = _edge_units(extract, network.crs, inner)
    warnings = []
    if len(edge):
        warnings.append(say("edge_units", n=len(edge), buffer=buffer_m))
    return StudyArea(inner, edge, warnings)


def _partly_outside(share: float, extract: OsmExtract) -> str:
    return say("partly_outside", share=share, file=extract.path.name)


def _edge_units(extract: OsmExtract, crs: object, inner: BaseGeometry) -> pd.DataFrame:
    """OSM residential compounds that lie wholly in the band between ``inner`` and the edge."""
    features = extract.features
    is_res = features["tags"].map(lambda t: t.get("landuse") == "residential")
    polys = features[is_res & features.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(crs)
    out = ~shapely.intersects(polys.geometry.values, inner)
    ids = [f"osm:{t}/{i}" for t, i in zip(polys.osm_type[out], polys.osm_id[out], strict=True)]
    names = [n if isinstance(n, str) else None for n in polys["name"][out]]  # JSON: null
    return pd.DataFrame({"community_id": ids, "name": names}, dtype=object)


@dataclass
class Facilities:
    """Stage 3's output: OSM and planner facilities merged (WGS-84)."""

    table: gpd.GeoDataFrame
    merged_with_osm: int
    outlines: np.ndarray | None = None  # per row: an area facility's polygon (WGS-84) or None
    entrances: np.ndarray | None = None  # per row: an area's entrances (MultiPoint) or None


def find_facilities(
    extract: OsmExtract, network: Network, standards: Standards, given: PlannerInputs
) -> Facilities:
    """Stage 3: facilities from OSM tags and names, plus the planner's, each counted once."""
    problems, metric = given.problems, network.crs
    osm_facilities = facilities_from_osm(extract.features, standards.categories, metric)
    sources = _once(given.facility_sources, problems)
    planner = [
        _planner_points(f, standards, given.crs, extract.bounds, problems, k)
        for k, f in enumerate(sources, 1)
    ]
    problems.raise_errors()
    planner = _drop_repeated_records(sources, planner, problems)
    planner = pd.concat([osm_facilities.iloc[:0], *planner], ignore_index=True)
    planner = gpd.GeoDataFrame(planner, geometry="geometry", crs=WGS84)
    check_datum(planner, *_map_fits(network, osm_facilities, standards), problems)
    problems.raise_errors()
    settings = standards.analysis
    table, merged = merge_facilities(
        osm_facilities, planner, metric, settings.merge_distance_m, settings.merge_name_similarity
    )
    outlines = table.pop(OUTLINE).to_numpy() if OUTLINE in table else None
    entrances = None if outlines is None else facility_entrances(extract.features, outlines, metric)
    return Facilities(table, merged, outlines, entrances)


def _once(sources: list[FacilitySource], problems: Problems) -> list[FacilitySource]:
    """The facility files, each read once: a file given again (same content and options) is
    left out with a warning."""
    seen: dict[tuple, FileSpec] = {}
    out = []
    for source in sources:
        if isinstance(source, FileSpec) and source.path.is_file():
            key = (file_sha256(source.path), tuple(sorted(source.options.items())))
            if key in seen:
                problems.warning(source, say("run_same_file", other=seen[key]))
                continue
            seen[key] = source
        out.append(source)
    return out


def _drop_repeated_records(
    sources: list[FacilitySource], frames: list[gpd.GeoDataFrame], problems: Problems
) -> list[gpd.GeoDataFrame]:
    """Records repeated within or across the planner's files (same category, name and place to
    0.1 m) count once, with a warning naming the file that repeats them."""
    seen: set[tuple] = set()
    out = []
    for source, frame in zip(sources, frames, strict=True):
        xy = np.round(shapely.get_coordinates(frame.geometry.values) * 1e6).astype(np.int64)
        keys = list(
            zip(frame["category_id"], frame["name"].fillna(""), xy[:, 0], xy[:, 1], strict=True)
        )
        repeat = np.zeros(len(frame), bool)
        for i, key in enumerate(keys):
            repeat[i] = key in seen
            seen.add(key)
        if repeat.any():
            key = "run_repeated_file" if isinstance(source, FileSpec) else "run_repeated_table"
            problems.warning(source, say(key, n=int(repeat.sum())))
        out.append(frame[~repeat])
    return out


@dataclass
class Residents:
    """Stage 4's output: communities and the demand points where their residents live
    (metric CRS), and the basis of their population (``summary.json`` ``population``)."""

    communities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    basis: dict = field(default_factory=dict)


def place_residents(
    extract: OsmExtract,
    network: Network,
    study_area_m: BaseGeometry,
    standards: Standards,
    given: PlannerInputs,
) -> Residents:
    """Stage 4: the planner's communities, or OSM residential areas and clusters of homes
    with an estimated population, and their residents spread over buildings (or a grid on
    inhabited land); then scaled to ``--population`` if given, and per street to the official
    population of ``--boundaries`` streets that carry one."""
    metric, settings = network.crs, standards.population
    buildings = buildings_from_osm(extract.features, settings, metric)
    nowhere = uninhabited_areas(extract.features, _large_roads(network, settings), settings, metric)
    if given.communities is None:
        land = communities_from_osm(extract.features, study_area_m, metric)
        homes, buildings = homes_outside(land, buildings, study_area_m, settings)
        communities = pd.concat([land.assign(unit_kind="residential_land"), homes])
        if communities.empty:
            raise EmptyAreaError(say("run_no_homes", file=extract.path.name))
        communities = gpd.GeoDataFrame(communities.reset_index(drop=True), crs=metric)
        found = estimate_population(communities, buildings, settings, nowhere)
        people = Residents(*found)
    else:
        comm = _planner_communities_in(given, extract, study_area_m, metric)
        people = Residents(*spread_population(comm, buildings, settings, nowhere))
    people.basis = population_basis(people, study_area_m, nowhere)
    return _by_streets(_calibrated(people, given, settings), given, metric, settings)


def _large_roads(network: Network, settings: PopulationSettings) -> gpd.GeoSeries:
    """The street lines of motorways, trunk and primary roads (metric): no one lives there."""
    big = np.isin(network.edge_highway.astype(str), settings.large_road_values)
    ends = np.stack([network.node_xy[network.edge_u[big]], network.node_xy[network.edge_v[big]]], 1)
    return gpd.GeoSeries(shapely.linestrings(ends) if big.any() else [], crs=network.crs)


def _planner_communities_in(
    given: PlannerInputs, extract: OsmExtract, study_area_m: BaseGeometry, metric: object
) -> gpd.GeoDataFrame:
    """The planner's communities whose representative point lies in the study area."""
    comm = given.communities.to_crs(metric)
    inside = shapely.intersects(comm.representative_point().values, study_area_m)
    spec = given.communities_spec
    if not inside.any():
        bounds = tuple(round(v, 4) for v in extract.read_area.bounds)
        msg = say("run_no_communities_in_area", n=len(comm), file=spec, bounds=bounds)
        raise EmptyAreaError(msg)
    if (~inside).any():
        n_out = int((~inside).sum())
        given.problems.warning(spec, say("run_communities_outside", n=n_out))
    return comm[inside]


def population_basis(
    people: Residents, study_area_m: BaseGeometry, uninhabited: BaseGeometry
) -> dict:
    """What the population rests on: residential land, density, residents by method.

    Returns
    -------
    dict
        ``summary.json`` ``population``: study area and residential land (km², share),
        residents in total, per km² of study area, placed on buildings and on land (grid),
        per ``population_method`` and in building clusters, grid points dropped in
        uninhabited areas; ``calibrated``/``calibrated_by`` are set by ``_calibrated``.
    """
    comm, demand = people.communities, people.demand
    area_km2 = study_area_m.area / 1e6
    kind = comm["unit_kind"] if "unit_kind" in comm else pd.Series("official", index=comm.index)
    land = comm[kind == "residential_land"]
    land_km2 = shapely.union_all(land.geometry.values).intersection(study_area_m).area / 1e6
    total = float(comm["population"].sum())
    on_buildings = float(demand.loc[demand["kind"] == "building", "population"].sum())
    by_method = comm.groupby("population_method")["population"].sum()
    official = not bool(comm["population_estimated"].any())
    share = round(land_km2 / area_km2, 4) if area_km2 and not official else None
    return {
        "total": round(total),
        "study_area_km2": round(area_km2, 3),
        "residential_land_km2": None if official else round(land_km2, 3),  # the file's instead
        "residential_land_share": share,
        "uninhabited_km2": round(uninhabited.intersection(study_area_m).area / 1e6, 3),
        "density_per_km2": round(total / area_km2, 1) if area_km2 else None,
        "residents_by_buildings": round(on_buildings),
        "residents_by_land_area": round(total - on_buildings),
        "residents_by_method": {k: round(float(v)) for k, v in by_method.items()},
        "home_cluster_units": int((kind != "residential_land").sum()) if not official else 0,
        "estimated": not official,
        "calibrated": official,
        "calibrated_by": say("land_communities") if official else None,
    }


def _calibrated(people: Residents, given: PlannerInputs, settings: PopulationSettings) -> Residents:
    """The residents scaled so that the study area sums to ``--population``, if given.

    Raises
    ------
    InputError
        The official total is more than ``calibration_error_ratio`` times away from the
        estimate, either way (a warning from ``calibration_warn_ratio``).
    """
    basis = dict(people.basis)
    calibrated = basis["calibrated"]
    people.communities["population_calibrated"] = calibrated
    people.demand["population_calibrated"] = calibrated
    if given.population is None:
        return people
    estimate = float(people.communities["population"].sum())
    ratio = given.population / estimate if estimate > 0 else np.inf
    off = max(ratio, 1 / ratio) if ratio > 0 else np.inf
    where = f"{given.population_from} {given.population:,.0f}"
    if off > settings.calibration_error_ratio:
        limit = settings.calibration_error_ratio
        msg = say("run_population_far", where=where, ratio=ratio, estimate=estimate, limit=limit)
        raise InputError(msg)
    if off > settings.calibration_warn_ratio:
        given.problems.warning(where, say("run_population_off", ratio=ratio, estimate=estimate))
    communities, demand, factor = calibrate(people.communities, people.demand, given.population)
    basis.update(
        total=round(given.population),
        density_per_km2=round(given.population / basis["study_area_km2"], 1),
        residents_by_buildings=round(basis["residents_by_buildings"] * factor),
        residents_by_land_area=round(basis["residents_by_land_area"] * factor),
        residents_by_method={k: round(v * factor) for k, v in basis["residents_by_method"].items()},
        total_before_calibration=round(estimate),
        calibration_factor=round(factor, 4),
        calibrated=True,
        calibrated_by=where,
    )
    return Residents(communities, demand, basis)


def _by_streets(
    people: Residents, given: PlannerInputs, metric: object, settings: PopulationSettings
) -> Residents:
    """Estimated residents scaled per street to the streets' official population (常住人口),
    if ``--boundaries`` gives one; the planner's communities are never rescaled."""
    streets = given.streets
    if given.communities is not None or streets is None or not streets["population"].notna().any():
        return people
    column = given.units.attrs.get("population_column") or "population"
    communities, demand, report = calibrate_streets(
        people.communities, people.demand, streets.to_crs(metric)
    )
    _street_warnings(report, given, column, settings)
    basis = dict(people.basis)
    before = basis.get("total_before_calibration", basis["total"])
    total = float(communities["population"].sum())
    by = say("run_calibrated_streets", column=column, n=len(report))
    earlier = basis["calibrated_by"]
    basis.update(
        total=round(total),
        density_per_km2=round(total / basis["study_area_km2"], 1),
        total_before_calibration=before,
        calibrated=bool(communities["population_calibrated"].all()),
        calibrated_by=by if earlier is None else f"{earlier}{say('list_sep')}{by}",
        streets=[
            {
                "unit_id": r.unit_id,
                "name": r.name,
                "official": round(r.official),
                "estimate": round(r.estimate),
                "factor": None if np.isnan(r.factor) else round(r.factor, 4),
            }
            for r in report.itertuples()
        ],
    )
    on_buildings = float(demand.loc[demand["kind"] == "building", "population"].sum())
    by_method = communities.groupby("population_method")["population"].sum()
    basis.update(
        residents_by_buildings=round(on_buildings),
        residents_by_land_area=round(total - on_buildings),
        residents_by_method={k: round(float(v)) for k, v in by_method.items()},
    )
    return Residents(communities, demand, basis)


def _street_warnings(
    report: pd.DataFrame, given: PlannerInputs, column: str, settings: PopulationSettings
) -> None:
    """Warn of streets with an official count but no one placed, and of far-off estimates."""
    for row in report[(report["estimate"] <= 0) & (report["official"] > 0)].itertuples():
        given.problems.warning(
            given.boundaries_spec,
            say(
                "street_no_one",
                name=row.name,
                id=row.unit_id,
                column=column,
                official=row.official,
            ),
        )
    factor = report["factor"].to_numpy(float)
    with np.errstate(divide="ignore"):
        off = np.maximum(factor, 1 / factor)
    far = report[np.isfinite(off) & (off > settings.calibration_warn_ratio)]
    if len(far):
        listed = ", ".join(f"{r.name} ×{r.factor:.3g}" for r in far.itertuples())
        given.problems.warning(
            given.boundaries_spec,
            say(
                "streets_far",
                n=len(far),
                total=len(report),
                column=column,
                ratio=settings.calibration_warn_ratio,
                listed=listed,
            ),
        )


@dataclass
class Access:
    """Stage 5's output: the access state, and where facilities and homes joined the streets."""

    state: AccessState
    facilities_m: gpd.GeoDataFrame  # metric, with ``in_area``
    facility_join: Attachment
    demand_join: Attachment


def search_access(
    network: Network,
    found: Facilities,
    people: Residents,
    study_area_m: BaseGeometry,
    standards: Standards,
) -> Access:
    """Stage 5: attach homes and facilities to the streets, split the network there, and run
    one multi-source search per category.

    Homes and point facilities join every street nearly as near as their nearest one, area
    facilities at their mapped entrances (each entrance as a point), else where their outline
    meets or comes closest to the streets and along their frontage (settings ``attach_*``);
    a home also walks straight across its block to a facility within ``attach_across_m``
    (``Streets.across``). Each search still runs once, and a walk is the shortest over the
    joins.
    """
    fac_m = found.table.to_crs(network.crs)
    fac_m["in_area"] = shapely.intersects(fac_m.geometry.values, study_area_m)
    streets, settings = network_streets(network), standards.analysis
    shapes, is_area = _facility_shapes(fac_m, found.outlines, network.crs)
    entrances = _metric_entrances(found.entrances, len(fac_m), network.crs)
    most = np.where(is_area, settings.attach_area_max_streets, settings.attach_max_streets)
    fac_join = streets.attach_entrances(
        shapes,
        entrances,
        settings.attach_extra_m,
        most,
        settings.attach_max_streets,
        settings.attach_frontage_m,
    )
    homes = people.demand.geometry.values
    dem_join = streets.attach_near(homes, settings.attach_extra_m, settings.attach_max_streets)
    # across the block to a facility's mapped entrances where it has them, else to its shape
    reached = np.where([e is not None for e in entrances], entrances, shapes)
    across = streets.across(homes, reached, settings.attach_across_m)
    graph = routing_graph(network, dem_join, fac_join, shapely.get_coordinates(homes), across)
    access: dict[str, CategoryAccess] = {}
    categories = fac_m["category_id"].to_numpy()
    for cat_id in tqdm(standards.category_ids, desc="access", unit="category", disable=None):
        rows = np.flatnonzero(categories == cat_id)
        access[cat_id] = nearest_facility(graph, rows, standards.search_limit_m(cat_id))
    state = AccessState(
        crs=network.crs,
        study_area_m=study_area_m,
        graph=graph,
        access=access,
        demand=_demand_arrays(people, dem_join.first()),
        communities=_community_arrays(people.communities),
        facilities={
            "facility_id": fac_m["facility_id"].to_numpy(str),
            "category": categories.astype(str),
            "source": fac_m["source"].to_numpy(str),
            "in_area": fac_m["in_area"].to_numpy(bool),
        },
    )
    return Access(state, fac_m, fac_join.first(), dem_join.first())


def _facility_shapes(
    fac_m: gpd.GeoDataFrame, outlines: np.ndarray | None, crs: object
) -> tuple[np.ndarray, np.ndarray]:
    """What each facility joins the streets from (metric): its outline if it is an area, else
    its point; and whether it is an area."""
    shapes = fac_m.geometry.to_numpy().copy()
    if outlines is None or len(outlines) == 0:
        return shapes, np.zeros(len(shapes), bool)
    is_area = np.array([isinstance(o, shapely.Geometry) and not o.is_empty for o in outlines])
    if is_area.any():
        area = gpd.GeoSeries(list(outlines[is_area]), crs=WGS84).to_crs(crs)
        shapes[is_area] = area.to_numpy()
    return shapes, is_area


def _metric_entrances(entrances: np.ndarray | None, n: int, crs: object) -> np.ndarray:
    """Every facility's entrances (MultiPoint) in the metric CRS, or ``None``."""
    out = np.full(n, None, dtype=object)
    if entrances is None or len(entrances) == 0:
        return out
    has = np.array([e is not None for e in entrances], bool)
    if has.any():
        out[has] = gpd.GeoSeries(list(entrances[has]), crs=WGS84).to_crs(crs).to_numpy()
    return out


def _demand_arrays(people: Residents, join: Attachment) -> dict[str, np.ndarray]:
    """Per demand point: connector, residents (all, 60+, children; NaN where unknown), and its
    community's row."""
    demand = people.demand
    codes = pd.Index(people.communities["community_id"]).get_indexer(demand["community_id"])
    nan = np.full(len(demand), np.nan)
    return {
        "connector_m": join.connector_m,
        "population": demand["population"].to_numpy(float),
        "elderly": demand["elderly"].to_numpy(float) if "elderly" in demand else nan,
        "children": demand["children"].to_numpy(float) if "children" in demand else nan,
        "community": codes,
    }


def _community_arrays(communities: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Per community: id, name and population."""
    return {
        "community_id": communities["community_id"].to_numpy(str),
        "name": communities["name"].fillna("").to_numpy(str),
        "population": communities["population"].to_numpy(float),
    }


def judge(
    standards: Standards,
    people: Residents,
    access: Access,
    district: tuple[str, str, BaseGeometry],
    given: PlannerInputs,
    network: Network,
) -> pd.DataFrame:
    """Stage 6: every rule per community, street and district."""
    streets, villages = given.streets, given.villages
    return evaluate_rules(
        standards,
        people.communities,
        people.demand,
        access.facilities_m,
        access.state.access,
        district,
        None if streets is None else streets.to_crs(network.crs),
        official_communities=given.communities is not None,
        villages=None if villages is None else villages.to_crs(network.crs),
    )


@dataclass
class Stages:
    """What the stages of one run produced, in order."""

    given: PlannerInputs
    extract: OsmExtract
    network: Network
    facilities: Facilities
    people: Residents
    access: Access
    district: tuple[str, str, BaseGeometry]
    results: pd.DataFrame
    area: StudyArea


def assemble(
    stages: Stages, standards: Standards, lang: Lang, buffer_m: float, timings: dict
) -> Analysis:
    """The ``Analysis`` record: layers with access and rule columns, summary, warnings."""
    extract, network, access = stages.extract, stages.network, stages.access
    warnings = [*extract.warnings, *stages.area.warnings]
    warnings += _network_warnings(standards, network, access)
    warnings.extend(str(p) for p in stages.given.problems.warnings)
    facilities = stages.facilities.table.assign(
        connector_m=access.facility_join.connector_m,
        network_node=access.state.graph.facility_node,
        in_area=access.facilities_m["in_area"].to_numpy(),
    )
    demand = _with_access(
        stages.people.demand, access.demand_join.connector_m, access.state.access, facilities
    )
    communities = _with_rule_columns(stages.people.communities, stages.results)
    summary = _run_summary(stages, standards, buffer_m, timings, warnings)
    warnings = summary["warnings"]  # with the completeness warnings the summary added
    water = extract.features[extract.features["tags"].map(is_water)]
    return Analysis(
        standards=standards,
        lang=lang,
        crs=network.crs,
        study_area_m=stages.district[2],
        communities=communities.to_crs(WGS84),
        facilities=facilities,
        demand_points=demand.to_crs(WGS84),
        network=network.edges_gdf(),
        water=water[["osm_type", "osm_id", "geometry"]],
        results=stages.results,
        summary=summary,
        streets=stages.given.streets,
        state=access.state,
        warnings=warnings,
        inputs=[*stages.given.paths(Path(extract.path)), *map(Path, standards.files)],
    )


def _network_warnings(standards: Standards, network: Network, access: Access) -> list[str]:
    """Homes far from any street, and pieces of the network cut off from the main one."""
    warnings = []
    far = standards.analysis.far_connector_m
    n_far = int((access.demand_join.connector_m > far).sum())
    if n_far:
        warnings.append(say("far_homes", n=n_far, far=far))
    if network.stats["pieces"] > 1:
        stats = network.stats
        warnings.append(
            say(
                "network_pieces",
                pieces=stats["pieces"] - 1,
                other=stats["other_pieces_nodes"],
                nodes=stats["nodes"],
            )
        )
    return warnings


def _run_summary(
    stages: Stages, standards: Standards, buffer_m: float, timings: dict, warnings: list[str]
) -> dict:
    """``summary.json``: inputs, areas, network, communities, categories, timings, warnings."""
    extract, network, given = stages.extract, stages.network, stages.given
    district_id, district_name, study_area_m = stages.district
    study_area = _to(study_area_m, WGS84, source=network.crs)
    facilities = stages.access.facilities_m
    summary = {
        "district": {"id": district_id, "name": district_name},
        "units": "community" if given.communities is not None else "compound",
        "edge_units": {
            "count": len(stages.area.edge_units),
            "reason": say("run_edge_reason"),
            "units": stages.area.edge_units.to_dict("records"),
        },
        "circles_version": __version__,
        "input": {
            "osm": str(extract.path),
            "sha256": extract.sha256,
            "data_date": extract.data_date or None,
        },
        "study_area_wgs84_bounds": [round(v, 6) for v in study_area.bounds],
        "extract_bounds_wgs84": [round(v, 6) for v in extract.bounds.bounds],
        "standards": {
            "profile": standards.profile,
            "chosen_by": given.standards_chosen_by,
            "name_zh": standards.name.zh,
            "name_en": standards.name.en,
            "applies_to": standards.applies_to,
            "path": standards.path,
            "files": standards.files,
        },
        "crs": network.crs.to_string(),
        "network": network.stats,
        **summarise(
            standards, facilities, stages.people.communities, stages.people.demand, stages.results
        ),
        "population": stages.people.basis,
        "timings_s": timings,
        "warnings": warnings,
        "read_area_wgs84_bounds": [round(v, 6) for v in extract.read_area.bounds],
        "cache": {"read_osm": extract.cache, "network": network.cache},
        "planner_inputs": {
            "facility_files": [str(f) for f in given.facility_specs],
            "planner_facilities": int(facilities["source"].str.startswith("planner").sum()),
            "merged_with_osm": stages.facilities.merged_with_osm,
            "communities_file": None
            if given.communities_spec is None
            else str(given.communities_spec),
            "boundaries_file": None if given.units is None else str(given.boundaries_spec),
            "streets": 0 if given.streets is None else len(given.streets),
            "buffer_m": buffer_m,
            "crs": given.crs or "wgs84",  # read so unless a file says otherwise
        },
    }
    summary["warnings"] = [*warnings, *completeness_warnings(summary)]
    return summary


def _map_fits(
    network: Network, osm_facilities: gpd.GeoDataFrame, standards: Standards
) -> tuple[Callable, Callable]:
    """How well points fit the map: distance to streets, same-name OSM facilities nearby."""
    to_metric = Transformer.from_crs(WGS84, network.crs, always_xy=True)
    streets: Streets = network_streets(network)
    osm_m = osm_facilities.to_crs(network.crs)
    tree = shapely.STRtree(osm_m.geometry.values)
    settings = standards.analysis

    def distance_to_streets(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return streets.attach(np.column_stack(to_metric.transform(lon, lat))).connector_m

    def osm_matches(points: gpd.GeoDataFrame) -> int:
        pts = points.to_crs(network.crs)
        p_idx, o_idx = tree.query(
            pts.geometry.values, predicate="dwithin", distance=settings.merge_distance_m
        )
        same = pts["category_id"].to_numpy()[p_idx] == osm_m["category_id"].to_numpy()[o_idx]
        names_p, names_o = pts["name"].to_numpy(), osm_m["name"].to_numpy()
        hits = {
            int(i)
            for i, j in zip(p_idx[same], o_idx[same], strict=True)
            if similar_names(names_p[i], names_o[j], settings.merge_name_similarity)
        }
        return len(hits)

    return distance_to_streets, osm_matches


def _buffer(area: BaseGeometry, buffer_m: float) -> BaseGeometry:
    """The area grown by ``buffer_m`` metres (in its local UTM zone), WGS-84.

    An area wider than a UTM zone (a country, the world) grows by the same distance in
    degrees at its widest latitude instead, clipped to the globe.
    """
    if buffer_m <= 0:
        return area
    minx, miny, maxx, maxy = area.bounds
    if maxx - minx > 6 or maxy - miny > 6:
        widest = min(85.0, max(abs(miny), abs(maxy)))
        pad = buffer_m / 111_320 / np.cos(np.radians(widest))
        return area.buffer(pad).intersection(shapely.box(-180, -90, 180, 90))
    utm = gpd.GeoSeries([area], crs=WGS84).estimate_utm_crs()
    return _to(_to(area, utm).buffer(buffer_m), WGS84, source=utm)


def _to(geom: BaseGeometry, crs: object, source: object = WGS84) -> BaseGeometry:
    return gpd.GeoSeries([geom], crs=source).to_crs(crs).iloc[0]


def _planner_points(
    source: str | Path | FileSpec | gpd.GeoDataFrame,
    standards: Standards,
    crs: str | None,
    bounds: BaseGeometry,
    problems: Problems,
    number: int = 1,
) -> gpd.GeoDataFrame:
    """A planner facility file read and checked, or a GeoDataFrame given from Python (the
    ``number``-th source: its ids are ``planner:frame<number>:<row>``, unique across sources)."""
    if not isinstance(source, gpd.GeoDataFrame):
        return read_facilities(source, standards, crs, bounds, problems)
    known = set(standards.category_ids)
    unknown = sorted(set(source["category_id"]) - known)
    if unknown:
        examples = sorted(known)[:5]
        raise InputError(say("run_unknown_categories", unknown=unknown, examples=examples))
    points = source.to_crs(WGS84)
    frame = pd.DataFrame(
        {
            "facility_id": [f"planner:frame{number}:{i}" for i in range(len(points))],
            "category_id": points["category_id"].to_numpy(),
            "name": points["name"].to_numpy() if "name" in points else None,
            "source": "planner",
            "matched_by": "planner",
            "capacity": points["capacity"].to_numpy(float) if "capacity" in points else np.nan,
            "area_m2": points["area_m2"].to_numpy(float) if "area_m2" in points else np.nan,
            "floor_area_m2": (
                points["floor_area_m2"].to_numpy(float) if "floor_area_m2" in points else np.nan
            ),
        }
    )
    geometry = points.geometry.representative_point().values
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)


def _with_access(
    demand: gpd.GeoDataFrame,
    connector: np.ndarray,
    access: dict[str, CategoryAccess],
    facilities: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Demand points with their connector, and per category the walk and nearest facility."""
    columns = {"connector_m": connector}
    ids = facilities["facility_id"].to_numpy()
    for cat_id, acc in access.items():
        columns[f"dist_m.{cat_id}"] = acc.point_dist_m
        columns[f"facility.{cat_id}"] = np.where(
            acc.nearest_facility >= 0,
            ids[np.maximum(acc.nearest_facility, 0)] if len(ids) else None,
            None,
        )
    return demand.assign(**columns)


def _with_rule_columns(communities: gpd.GeoDataFrame, results: pd.DataFrame) -> gpd.GeoDataFrame:
    """Communities with ``<rule_id>.status`` / ``.value`` / ``.shortfall`` columns."""
    per_community = results[results["unit_level"] == "community"]
    wide = per_community.pivot(
        index="unit_id", columns="rule_id", values=["status", "value", "shortfall"]
    )
    wide.columns = [f"{rule}.{what}" for what, rule in wide.columns]
    numbers = [c for c in wide.columns if not c.endswith(".status")]
    wide[numbers] = wide[numbers].apply(pd.to_numeric, errors="coerce")  # REAL in the GeoPackage
    wide = wide[sorted(wide.columns)]
    return communities.merge(wide, left_on="community_id", right_index=True, how="left")


def check_inputs(
    facilities: Sequence[str | Path | FileSpec] = (),
    communities: str | Path | FileSpec | None = None,
    boundaries: str | Path | FileSpec | None = None,
    standards: Standards | str | Path | None = None,
    crs: str | None = None,
    osm: str | Path | None = None,
    strict: bool = False,
) -> tuple[Problems, list[dict]]:
    """Read and check planners' files without analysing.

    With ``osm``, facility points are also checked against the extract's bounds and the
    walking network (a wrong datum puts them 300-700 m off the streets).

    Returns
    -------
    problems, files
        Every error and warning, and one summary per file (what was read).
    """
    standards = standards if isinstance(standards, Standards) else load_standards(standards)
    problems = Problems(strict=strict)
    bounds, fits = None, None
    if osm is not None:
        extract = read_extract(osm, feature_keys(standards), None, cache=True)
        network = network_from_extract(extract, standards.network, cache=True)
        bounds = extract.bounds
        osm_facilities = facilities_from_osm(extract.features, standards.categories, network.crs)
        fits = _map_fits(network, osm_facilities, standards)
    files, read = [], []
    for spec in map(FileSpec.parse, facilities):
        gdf = read_facilities(spec, standards, crs, bounds, problems)
        read.append(gdf)
        files.append(_facility_file_summary(spec, gdf, standards, crs))
    if fits is not None and read:
        check_datum(pd.concat(read, ignore_index=True), *fits, problems)
    if communities is not None:
        spec = FileSpec.parse(communities)
        files.append(_communities_file_summary(spec, read_communities(spec, crs, problems)))
    if boundaries is not None:
        spec = FileSpec.parse(boundaries)
        gdf = read_boundaries(spec, crs, problems)
        levels = {str(k): int(v) for k, v in gdf["level"].value_counts().items()}
        files.append(
            {"file": str(spec), "kind": "boundaries", "records": len(gdf), "levels": levels}
        )
    return problems, files


def _facility_file_summary(
    spec: FileSpec, gdf: gpd.GeoDataFrame, standards: Standards, crs: str | None
) -> dict:
    """What a facility file holds: records, datum, categories, capacities."""
    names = {c.id: c.name.zh for c in standards.categories.categories}
    return {
        "file": str(spec),
        "kind": "facilities",
        "records": len(gdf),
        "crs": gdf["given_crs"].iloc[0] if len(gdf) else crs or "wgs84",
        "categories": {names[k]: int(v) for k, v in gdf["category_id"].value_counts().items()},
        "with_capacity": int(gdf["capacity"].notna().sum()),
    }


def _communities_file_summary(spec: FileSpec, gdf: gpd.GeoDataFrame) -> dict:
    """What a communities file holds: records, population, 60+ and children counts."""
    return {
        "file": str(spec),
        "kind": "communities",
        "records": len(gdf),
        "population": float(gdf["population"].sum()) if len(gdf) else 0.0,
        "with_elderly": bool(len(gdf) and gdf["elderly"].notna().all()),
        "with_children": bool(len(gdf) and gdf["children"].notna().all()),
    }
