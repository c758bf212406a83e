"""Planners' files: facilities, communities and boundaries read, checked and used."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from circles import analyze
from circles.cli import main
from circles.errors import InputError
from circles.messages import language
from circles.present.tables import write_outputs
from circles.sources.planner_files import (
    Problems,
    check_datum,
    read_boundaries,
    read_communities,
    read_facilities,
)
from conftest import CHENGDU, need

CHENGDU_BOX = box(104.03, 30.64, 104.12, 30.72)
PLANNER_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "planner-samples"


def gcj(lon, lat):
    """WGS-84 -> GCJ-02 (what Amap exports), with prcoords."""
    out = [prcoords.wgs_gcj(prcoords.Coords(la, lo)) for lo, la in zip(lon, lat, strict=True)]
    return np.array([c.lon for c in out]), np.array([c.lat for c in out])


def errors_of(problems: Problems) -> list[str]:
    return [str(p) for p in problems.errors]


def test_gbk_csv_with_chinese_headers_names_and_capacity(tmp_path, standards):
    path = tmp_path / "助餐点.csv"
    pd.DataFrame(
        {
            "编号": ["A1", "A2", "A3"],
            "名称": ["长者食堂", "老年餐桌", "托育园"],
            "类别": ["老年食堂", "elderly_meal", "托育机构（3岁以下）"],
            "经度": [104.07, 104.08, 104.09],
            "纬度": [30.67, 30.68, 30.69],
            "床位数": ["40", "", "1,200"],
        }
    ).to_csv(path, index=False, encoding="gbk")
    problems = Problems()
    gdf = read_facilities(path, standards, crs="wgs84", problems=problems)
    assert problems.items == []
    assert gdf["category_id"].tolist() == ["elderly_meal", "elderly_meal", "childcare"]
    assert gdf["name"].tolist() == ["长者食堂", "老年餐桌", "托育园"]
    assert gdf["facility_id"].tolist() == [f"planner:助餐点:A{i}" for i in (1, 2, 3)]
    np.testing.assert_array_equal(gdf["capacity"].to_numpy(), [40, np.nan, 1200])
    assert gdf["source_row"].tolist() == [2, 3, 4]


def test_gcj02_test_pair_lands_within_2_m(tmp_path, standards):
    path = tmp_path / "amap.csv"
    path.write_text("name,category,lng,lat\n天安门东,kindergarten,116.42703,39.90245\n", "utf-8")
    gdf = read_facilities(f"{path}::crs=gcj02", standards)
    got = gpd.GeoSeries(gdf.geometry, crs=4326).to_crs(32650).iloc[0]
    want = gpd.GeoSeries([Point(116.42079, 39.90105)], crs=4326).to_crs(32650).iloc[0]
    assert got.distance(want) < 2.0


def test_datum_hint_in_column_name_and_location_column(tmp_path, standards):
    path = tmp_path / "hint.csv"
    path.write_text("名称,高德经度,高德纬度\n甲,116.42703,39.90245\n", encoding="utf-8")
    gdf = read_facilities(f"{path}::category=幼儿园", standards)
    assert gdf["given_crs"].iloc[0] == "gcj02"
    path2 = tmp_path / "location.csv"
    path2.write_text('name,type,location\n乙,幼儿园,"104.07,30.67"\n', encoding="utf-8")
    gdf2 = read_facilities(path2, standards, crs="wgs84")
    assert (gdf2.geometry.x.iloc[0], gdf2.geometry.y.iloc[0]) == (104.07, 30.67)


def test_xlsx_and_geojson_facilities(tmp_path, standards):
    xlsx = tmp_path / "sites.xlsx"
    pd.DataFrame(
        {"机构名称": ["甲托育"], "经度": [104.07], "纬度": [30.67], "托位": [80]}
    ).to_excel(xlsx, index=False)
    gdf = read_facilities(f"{xlsx}::category=childcare,crs=wgs84", standards)
    assert gdf["capacity"].tolist() == [80] and gdf["name"].tolist() == ["甲托育"]
    geojson = tmp_path / "sites.geojson"
    gpd.GeoDataFrame(
        {"name": ["乙"], "category": ["药店"]}, geometry=[Point(104.07, 30.67)], crs=4326
    ).to_file(geojson)
    assert read_facilities(geojson, standards)["category_id"].tolist() == ["pharmacy"]


BAD_ROWS = [
    # swapped latitude/longitude, named with row and column
    (
        "甲,幼儿园,30.67,104.07",
        "第 2 行，列“纬度”：经度 30.67 与纬度 104.07 似乎填反了",
        "row 2, column '纬度': longitude 30.67 and latitude 104.07 look swapped",
    ),
    # non-numeric coordinate
    (
        "甲,幼儿园,abc,30.67",
        "第 2 行，列“经度”：坐标应为数字，实为“abc”",
        "row 2, column '经度': expected a coordinate number, got 'abc'",
    ),
    # unknown category with a close match
    (
        "甲,老年食唐,104.07,30.67",
        "第 2 行，列“类别”：未知类别“老年食唐”。是否指“老年食堂”",
        "row 2, column '类别': unknown category '老年食唐'. Did you mean '老年食堂'",
    ),
    # outside the extract
    ("甲,幼儿园,121.47,31.23", "位于OSM数据文件范围", "lies outside the OSM extract"),
    # mixed degrees and projected metres
    (
        "甲,幼儿园,104.07,30.67\n乙,幼儿园,404123.5,3395012.1",
        "坐标系混用：2 条记录中有 1 条为投影坐标（米）（第 3 行……）",
        "mixed coordinate systems: 1 of 2 records hold projected metres (rows [3]...)",
    ),
    # all projected metres without a CRS
    ("甲,幼儿园,404123.5,3395012.1", "坐标看似投影坐标（米）", "look like projected metres"),
    # negative capacity
    (
        "甲,幼儿园,104.07,30.67,-5",
        "第 2 行，列“学位”：数值为负：“-5”",
        "row 2, column '学位': negative value '-5'",
    ),
]


def bad_facility_errors(tmp_path, standards, rows: str) -> tuple[Path, list[str]]:
    """A facility CSV of ``rows`` (名称,类别,经度,纬度[,学位]) read in the Chengdu extract."""
    path = tmp_path / "bad.csv"
    header = "名称,类别,经度,纬度" + (",学位" if rows.count(",") == 4 else "")
    path.write_text(f"{header}\n{rows}\n", encoding="utf-8")
    problems = Problems()
    read_facilities(path, standards, "wgs84", extract_bounds=CHENGDU_BOX, problems=problems)
    return path, errors_of(problems)


@pytest.mark.parametrize(("rows", "zh", "en"), BAD_ROWS)
def test_bad_facility_rows_are_specific_errors(tmp_path, standards, rows, zh, en):
    path, errors = bad_facility_errors(tmp_path, standards, rows)
    assert any(zh in e for e in errors), errors
    assert all(e.startswith(f"文件“{path}”，") or e.startswith(f"文件“{path}”：") for e in errors)
    with language("en"):  # the same problems in English
        path, errors = bad_facility_errors(tmp_path, standards, rows)
    assert any(en in e for e in errors), errors
    assert all(e.startswith(str(path)) for e in errors)


def test_gcj02_outside_china_duplicate_ids_and_empty_files(tmp_path, standards):
    path = tmp_path / "paris.csv"
    path.write_text("id,name,category,lon,lat\n1,a,pharmacy,2.35,48.85\n1,b,pharmacy,2.36,48.86\n")
    problems = Problems()
    read_facilities(f"{path}::crs=gcj02", standards, problems=problems)
    text = "\n".join(errors_of(problems))
    assert "位于中国境外，GCJ02 在境外没有定义" in text
    assert "编号“1”重复（第 2、3 行）；编号必须唯一" in text
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    header_only = tmp_path / "header.csv"
    header_only.write_text("name,category,lon,lat\n", encoding="utf-8")
    for f in (empty, header_only):
        problems = Problems()
        read_facilities(f, standards, problems=problems)
        assert errors_of(problems) == [f"文件“{f}”：文件中没有数据行。"]
    with pytest.raises(InputError, match="没有数据行"):
        problems.raise_errors()


def community_file(tmp_path, rows, name="c.geojson"):
    gdf = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs=4326,
    )
    path = tmp_path / name
    gdf.to_file(path)
    return path


def test_communities_population_errors_and_polygon_repair(tmp_path):
    square = box(104.07, 30.67, 104.08, 30.68)
    bowtie = Polygon([(104.08, 30.67), (104.09, 30.68), (104.09, 30.67), (104.08, 30.68)])
    line_like = Polygon([(104.1, 30.7), (104.11, 30.7), (104.12, 30.7)])
    path = community_file(
        tmp_path,
        [
            {"社区名称": "甲", "常住人口": "3000", "60岁以上人口": "600", "geometry": square},
            {"社区名称": "乙", "常住人口": "-5", "60岁以上人口": "1", "geometry": square},
            {"社区名称": "丙", "常住人口": "很多", "60岁以上人口": "1", "geometry": square},
            {"社区名称": "丁", "常住人口": "100", "60岁以上人口": "200", "geometry": bowtie},
            {"社区名称": "戊", "常住人口": "100", "60岁以上人口": "1", "geometry": line_like},
        ],
    )
    problems = Problems()
    gdf = read_communities(path, problems=problems)
    text = "\n".join(str(p) for p in problems.items)
    assert "第 2 个要素，列“常住人口”：数值为负：“-5”" in text
    assert "第 3 个要素，列“常住人口”：应为人口数，实为“很多”" in text
    assert "第 4 个要素，列“60岁以上人口”：200 超过人口数 100" in text
    assert "第 4 个要素：面无效（自相交[" in text  # repaired: a warning
    assert any(p.level == "warning" and p.row == 4 for p in problems.items)
    assert "第 5 个要素：面无效" in text and "无法修复" in text
    with language("en"):
        read_communities(path, problems=(english := Problems()))
        text = "\n".join(str(p) for p in english.items)
    assert "feature 2, column '常住人口': negative value '-5'" in text
    assert "feature 3, column '常住人口': expected a population, got '很多'" in text
    assert "feature 4, column '60岁以上人口': 200 exceeds the population 100" in text
    assert "feature 4: invalid polygon (Self-intersection" in text
    assert "feature 5: invalid polygon" in text and "cannot be repaired" in text
    assert gdf["name"].tolist() == ["甲", "丁"]
    assert gdf.geometry.is_valid.all()
    assert gdf["population_method"].eq("official").all()


def test_mixed_crs_in_vector_file_and_missing_population_column(tmp_path):
    path = tmp_path / "metres.geojson"
    ring = [[404000, 3395000], [404100, 3395000], [404100, 3395100], [404000, 3395000]]
    feature = {
        "type": "Feature",
        "properties": {"name": "甲", "population": 10},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    problems = Problems()
    read_communities(path, problems=problems)
    assert "坐标系混用" in "\n".join(errors_of(problems))
    no_pop = community_file(tmp_path, [{"name": "甲", "geometry": box(104, 30, 104.01, 30.01)}])
    problems = Problems()
    read_communities(no_pop, problems=problems)
    assert "没有人口列" in "\n".join(errors_of(problems))


def test_boundaries_levels(tmp_path):
    path = community_file(
        tmp_path,
        [
            {"名称": "甲街道", "级别": "街道", "geometry": box(104.0, 30.6, 104.1, 30.7)},
            {"名称": "乙镇", "级别": "镇", "geometry": box(104.1, 30.6, 104.2, 30.7)},
            {"名称": "丙", "级别": "省", "geometry": box(104.2, 30.6, 104.3, 30.7)},
        ],
        "streets.geojson",
    )
    problems = Problems()
    gdf = read_boundaries(path, problems=problems)
    assert gdf["level"].tolist() == ["street", "street"]
    assert "第 3 个要素，列“级别”：未知级别“省”" in "\n".join(errors_of(problems))


def test_datum_check_by_street_distance():
    """Points on streets in the right datum, 300+ m off in the one they were given in."""
    lon = np.linspace(104.05, 104.10, 8)
    lat = np.full(8, 30.67)
    gx, gy = gcj(lon, lat)
    facilities = gpd.GeoDataFrame(
        {"source_file": ["f.csv"] * 8, "given_crs": "wgs84", "category_id": "pharmacy"},
        geometry=gpd.points_from_xy(gx, gy),
        crs=4326,
    )

    def street_at_lat(x, y):  # one street along latitude 30.67 (WGS-84)
        return np.abs(np.asarray(y) - 30.67) * 111_000 + 5

    problems = check_datum(facilities, street_at_lat)
    assert "坐标看似 GCJ02（高德/腾讯），而不是 WGS84" in errors_of(problems)[0]
    assert "距最近街道的中位距离" in errors_of(problems)[0]
    assert "请用 --crs gcj02" in errors_of(problems)[0]
    with language("en"):
        (error,) = errors_of(check_datum(facilities, street_at_lat))
    assert "look like GCJ02 (Amap, Tencent), not WGS84" in error
    assert "Give --crs gcj02" in error
    right = facilities.set_geometry(gpd.points_from_xy(lon, lat, crs=4326))
    assert check_datum(right, street_at_lat).items == []


@pytest.fixture(scope="module")
def planner_files(tmp_path_factory, chengdu):
    """Real Chengdu kindergartens exported as from Amap (GCJ-02, GBK), communities with 60+."""
    folder = tmp_path_factory.mktemp("planner")
    kg = chengdu.facilities[chengdu.facilities["category_id"] == "kindergarten"]
    x, y = gcj(kg.geometry.x.to_numpy(), kg.geometry.y.to_numpy())
    pd.DataFrame(
        {
            "名称": kg["name"].fillna("未命名幼儿园"),
            "类别": "幼儿园",
            "经度": x,
            "纬度": y,
            "学位": 270,
        }
    ).to_csv(folder / "kindergartens.csv", index=False, encoding="gbk")
    comm = chengdu.communities[["community_id", "name", "population", "geometry"]].copy()
    comm["population"] = comm["population"].round()
    comm["elderly"] = (comm["population"] * 0.2).round()
    comm.rename(columns={"community_id": "id"}).to_file(folder / "communities.geojson")
    minx, miny, maxx, maxy = comm.total_bounds
    mid = (minx + maxx) / 2
    gpd.GeoDataFrame(
        {"name": ["西", "东"], "level": ["street", "street"]},
        geometry=[box(minx, miny, mid, maxy), box(mid, miny, maxx, maxy)],
        crs=4326,
    ).to_file(folder / "streets.geojson")
    return folder


def test_wrong_datum_is_caught_on_real_data(planner_files):
    result = CliRunner().invoke(
        main,
        [
            "check",
            "--facilities",
            str(planner_files / "kindergartens.csv"),
            "--crs",
            "wgs84",  # said, and wrong: the street and name fits are a second opinion
            "--osm",
            str(need(CHENGDU)),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "坐标看似 GCJ02（高德/腾讯），而不是 WGS84" in result.output
    assert "请用 --crs gcj02" in result.output
    ok = CliRunner().invoke(
        main,
        [
            "check",
            "--facilities",
            str(planner_files / "kindergartens.csv"),
            "--crs",
            "gcj02",
            "--osm",
            str(need(CHENGDU)),
            "--communities",
            str(planner_files / "communities.geojson"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    rows = len(pd.read_csv(planner_files / "kindergartens.csv", encoding="gbk"))
    assert f"读取设施 {rows} 处" in ok.output and "没有错误" in ok.output


def test_planner_files_in_an_analysis(planner_files, chengdu, tianjin, tmp_path):
    result = analyze(
        need(CHENGDU),
        standards=tianjin,  # its per-street and elderly rules
        facilities=[planner_files / "kindergartens.csv"],
        crs="gcj02",
        communities=planner_files / "communities.geojson",
        boundaries=planner_files / "streets.geojson",
    )
    fac = result.facilities[result.facilities["category_id"] == "kindergarten"]
    # the same kindergartens as OSM's, back from GCJ-02 (< 1 m off): each counts once
    osm_kg = chengdu.facilities.query("category_id == 'kindergarten'")
    assert len(fac) == len(osm_kg)
    assert fac["source"].eq("planner+osm").all()
    assert sorted(fac["osm_id"]) == sorted(osm_kg["osm_id"])
    assert fac["capacity"].eq(270).all()
    # official population, not estimated; elderly weighting where the file has 60+
    assert not result.communities["population_estimated"].any()
    assert result.summary["communities"]["population_estimated"] is False
    r = result.results
    elderly = r[(r["rule_id"] == "elderly_meal_15min_elderly")]
    assert elderly["status"].eq("no_data").all()
    kg = r[(r["rule_id"] == "kindergarten_300m") & (r["unit_level"] == "district")].iloc[0]
    assert kg["note"] == "按全部居民计：社区数据中没有儿童人数"
    # per-street presence rule evaluated on the two streets
    streets = r[(r["rule_id"] == "elderly_centre_per_street")]
    assert streets["unit_level"].tolist() == ["street", "street"]
    assert streets["population"].sum() == pytest.approx(result.communities["population"].sum())
    paths = write_outputs(result, tmp_path / "out")
    assert (tmp_path / "out" / "gaps.xlsx") in paths
    warnings = pd.read_excel(tmp_path / "out" / "gaps.xlsx", sheet_name="警告")["警告"].tolist()
    assert warnings == result.warnings and len(warnings) >= 1


def test_elderly_weighting_changes_the_share(planner_files, tianjin):
    standards = tianjin  # Tianjin's elderly meal circle
    canteens = planner_files / "canteens.csv"
    pd.DataFrame(
        {"名称": ["食堂一", "食堂二"], "经度": [104.075, 104.09], "纬度": [30.675, 30.69]}
    ).to_csv(canteens, index=False)
    result = analyze(
        need(CHENGDU),
        standards=standards,
        facilities=[f"{canteens}::category=老年助餐点,crs=wgs84"],
        communities=planner_files / "communities.geojson",
    )
    r = result.results
    row = r[(r["rule_id"] == "elderly_meal_15min_elderly") & (r["unit_level"] == "district")]
    assert row["note"].iloc[0] == "按60岁以上老人计"
    assert row["shortfall_unit"].iloc[0] == "elderly"
    # elderly are 20% of everyone in every community: the share equals the unweighted one
    demand = result.demand_points
    within = demand["dist_m.elderly_meal"] <= standards.threshold_m(
        standards.rule("elderly_meal_15min_elderly").threshold
    )
    expected = demand.loc[within, "elderly"].sum() / demand["elderly"].sum()
    assert row["value"].iloc[0] == pytest.approx(expected)


def test_gaps_workbook(chengdu_tianjin, tmp_path):
    import openpyxl

    write_outputs(chengdu_tianjin, tmp_path)  # a sheet per judged category: meals too
    book = openpyxl.load_workbook(tmp_path / "gaps.xlsx")
    assert book.sheetnames[0] == "汇总"
    assert "幼儿园" in book.sheetnames and "老年助餐点" in book.sheetnames
    sheet = book["幼儿园"]
    assert sheet.freeze_panes == "A2"
    headers = [c.value for c in sheet[1]]
    assert "结果" in headers and "单元名称" in headers
    results = [row[headers.index("结果")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "未达标" in results
    rules = [r.formula[0] for cf in sheet.conditional_formatting for r in cf.rules]
    column = openpyxl.utils.get_column_letter(headers.index("结果") + 1)
    assert rules == [f'${column}2="未达标"']
    summary = book["汇总"]
    assert [c.value for c in summary[1]][:3] == ["设施类别", "设施数", "数据来源"]


def test_district_by_name(standards):
    result = analyze(need(CHENGDU), standards=standards, district="金牛区")
    assert result.summary["district"] == {"id": "510106", "name": "成都市金牛区"}
    runner = CliRunner().invoke(
        main, ["analyze", "--osm", str(need(CHENGDU)), "--district", "鼓楼区", "--out", "x"]
    )
    assert runner.exit_code == 2
    assert "南京市鼓楼区（320106）" in runner.output


CELLS = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["幼儿园", "老年食堂", "kindergarten", "-1", "1e309", "104.07", "30.67"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS, CELLS), min_size=0, max_size=6))
@example(rows=[(None, "幼儿园", "104.04", "30.7", ":")])  # a bad capacity cell: row not kept
def test_malformed_facility_rows_never_crash(tmp_path, standards, rows):
    path = tmp_path / "fuzz.csv"
    frame = pd.DataFrame(rows, columns=["名称", "类别", "经度", "纬度", "床位"])
    frame.to_csv(path, index=False, encoding="utf-8")
    problems = Problems()
    gdf = read_facilities(path, standards, extract_bounds=CHENGDU_BOX, problems=problems)
    # every kept row is a valid point inside the extract with a known category
    assert gdf.geometry.within(CHENGDU_BOX).all()
    assert gdf["category_id"].isin(standards.category_ids).all()
    # every error names this file; row errors name a data row of it
    for p in problems.errors:
        assert p.file == str(path)
        assert p.row is None or 2 <= p.row <= len(rows) + 1
    assert len(gdf) + len({p.row for p in problems.errors if p.row}) <= max(len(rows), 1)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pops=st.lists(CELLS, min_size=1, max_size=5))
def test_malformed_population_never_crashes(tmp_path, pops):
    path = community_file(
        tmp_path,
        [
            {"name": f"c{i}", "population": p, "geometry": box(104 + i, 30, 104.01 + i, 30.01)}
            for i, p in enumerate(pops)
        ],
        "fuzz.geojson",
    )
    problems = Problems()
    gdf = read_communities(path, problems=problems)
    assert (gdf["population"] >= 0).all() and gdf["population"].notna().all()
    bad_rows = {p.row for p in problems.errors}
    assert len(gdf) == len(pops) - len(bad_rows)


def test_shapefile_communities_with_gbk_attributes(tmp_path):
    """A Shapefile from a Chinese GIS: GBK attributes declared in its .cpg file."""
    gdf = gpd.GeoDataFrame(
        {"社区名称": ["甲社区", "乙社区"], "常住人口": [3000, 4500], "户数": [1000, 1500]},
        geometry=[box(104.07, 30.67, 104.08, 30.68), box(104.08, 30.67, 104.09, 30.68)],
        crs=4490,  # CGCS2000
    )
    path = tmp_path / "社区.shp"
    gdf.to_file(path, encoding="gbk")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("GBK", "CP936", "936")
    problems = Problems()
    read = read_communities(path, problems=problems)
    assert problems.items == []
    assert read["name"].tolist() == ["甲社区", "乙社区"]
    assert read["population"].tolist() == [3000, 4500]
    assert read["households"].tolist() == [1000, 1500]
    assert read.crs.to_epsg() == 4326


def planner_sample(name: str) -> Path:
    """A file of ../shared/planner-samples; skip (with the reason) when absent."""
    path = PLANNER_SAMPLES / name
    if not path.exists():
        pytest.skip(f"planner sample {path} not found: these tests need ../shared/planner-samples")
    return path


@pytest.mark.parametrize(
    ("name", "options", "truth", "key"),
    [
        ("托育机构.csv", "crs=gcj02", "truth_childcare_wgs84.csv", "编号"),
        ("老年助餐点.xlsx", "crs=gcj02,category=elderly_meal", "truth_meal_wgs84.csv", "名称"),
    ],
)
def test_planner_sample_facilities_back_from_gcj02(standards, name, options, truth, key):
    """Office files in GCJ-02 land within 0.5 m of the WGS-84 points they were made from."""
    problems = Problems()
    gdf = read_facilities(f"{planner_sample(name)}::{options}", standards, problems=problems)
    assert problems.items == []
    want = pd.read_csv(planner_sample(truth), dtype={key: str})
    keys = gdf["facility_id"].str.rsplit(":", n=1).str[-1] if key == "编号" else gdf["name"]
    got = gdf.assign(key=keys.to_numpy()).merge(want, left_on="key", right_on=key)
    assert len(got) == len(gdf) == len(want)
    utm = gdf.estimate_utm_crs()
    truth_points = gpd.GeoSeries(gpd.points_from_xy(got["_wgs_lon"], got["_wgs_lat"]), crs=4326)
    assert got.geometry.to_crs(utm).distance(truth_points.to_crs(utm)).max() < 0.5


def test_planner_sample_communities_and_streets():
    """The same communities as WGS-84 GeoJSON and as a CGCS2000 Gauss-Krüger Shapefile."""
    problems = Problems()
    geojson = read_communities(planner_sample("社区.geojson"), problems=problems)
    shapefile = read_communities(planner_sample("社区_CGCS2000_GK.shp"), problems=problems)
    assert problems.items == []
    assert len(geojson) == 72
    for column in ("name", "population", "households"):
        assert shapefile[column].tolist() == geojson[column].tolist()
    utm = geojson.estimate_utm_crs()
    shift = geojson.to_crs(utm).geometry.hausdorff_distance(shapefile.to_crs(utm).geometry)
    assert shift.max() < 0.01
    streets = read_boundaries(planner_sample("街道.shp"), problems=problems)
    assert problems.items == []
    assert sorted(streets["level"]) == ["district"] + ["street"] * 6
    assert streets["name"].str.endswith("街道").sum() == 6


def test_facilities_given_as_several_frames_get_ids_unique_across_them(standards):
    """Two GeoDataFrames of facilities from Python: every facility keeps its own id."""
    chengdu = need(CHENGDU)
    frames = [
        gpd.GeoDataFrame(
            {"category_id": [cat, cat], "name": [f"{cat}甲", f"{cat}乙"]},
            geometry=[Point(104.07, 30.67), Point(104.08, 30.68)],
            crs=4326,
        )
        for cat in ("elderly_meal", "childcare")
    ]
    result = analyze(chengdu, standards=standards, facilities=frames)
    planner = result.facilities[result.facilities["source"] == "planner"]
    assert len(planner) == 4 and planner["facility_id"].is_unique


# ASCII words a Chinese message may hold: options as typed, formats, datums, category ids
ALLOWED_ASCII = {
    "crs", "strict", "communities", "boundaries", "facilities", "category", "level", "lon",
    "lat", "lng", "location", "population", "name", "street", "district", "village",
    "elderly_meal", "COLUMN", "area", "capacity", "children", "elderly", "floor_area",
    "households", "sheet", "gcj02", "bd09", "wgs84", "GCJ02", "GPS", "OSM", "CSV", "xlsx",
    "xls", "cpg", "GeoJSON", "GeoPackage", "Shapefile", "CRS", "EPSG", "CGCS2000", "UTF",
}  # fmt: skip


def test_planner_file_messages_hold_no_english_under_zh(tmp_path, standards):
    """Many problems of planners' files, said in Chinese: no English word is left."""
    texts = []
    for i, (rows, _, _) in enumerate(BAD_ROWS):
        (tmp_path / str(i)).mkdir()
        texts += bad_facility_errors(tmp_path / str(i), standards, rows)[1]
    problems = Problems()
    strict = Problems(strict=True)
    tables = {
        "no_coords.csv": "名称,类别\n甲,幼儿园\n",
        "no_category.csv": "名称,经度,纬度\n甲,104.07,30.67\n",
        "unstated.csv": "名称,类别,经度,纬度\n甲,幼儿园,104.07,30.67\n乙,幼儿园,104.08,30.68\n",
        "title.csv": "2024年清单\n名称,类别,经度,纬度\n甲,幼儿园,104.07,\n乙,药店,,\n",
        "old.xls": "",
    }
    for name, text in tables.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        read_facilities(tmp_path / name, standards, problems=problems)
    read_facilities(f"{tmp_path / 'title.csv'}::crs=gcj02", standards, problems=strict)
    read_facilities(tmp_path / "missing.csv", standards, problems=problems)
    read_communities(tmp_path / "no_coords.csv", problems=problems)  # a table, not polygons
    squares = [box(104.07, 30.67, 104.08, 30.68), box(104.075, 30.67, 104.085, 30.68)]
    overlapping = community_file(
        tmp_path, [{"population": "10", "geometry": g} for g in squares], "overlap.geojson"
    )
    read_communities(overlapping, problems=problems)
    read_communities(community_file(tmp_path, [{"geometry": squares[0]}]), problems=problems)
    read_boundaries(community_file(tmp_path, [{"geometry": squares[0]}]), problems=problems)
    read_boundaries(f"{overlapping}::level=省", problems=problems)
    bowtie = Polygon([(104.08, 30.67), (104.09, 30.68), (104.09, 30.67), (104.08, 30.68)])
    flat = Polygon([(104.1, 30.7), (104.11, 30.7), (104.12, 30.7)])
    odd = [
        {"id": "1", "人口": "很多", "60岁以上人口": "1", "级别": "社区", "geometry": bowtie},
        {"id": "1", "人口": "5", "60岁以上人口": "9", "级别": "省", "geometry": flat},
        {"id": None, "人口": None, "60岁以上人口": "1", "级别": "村", "geometry": Point(104, 30)},
    ]
    read_communities(community_file(tmp_path, odd, "odd.geojson"), problems=problems)
    read_boundaries(tmp_path / "odd.geojson", problems=problems)
    rows = "类别,经度,纬度\n,104.07,30.67\n药店,2.35,48.85\n"
    (tmp_path / "paris.csv").write_text(rows, encoding="utf-8")
    read_facilities(f"{tmp_path / 'paris.csv'}::crs=gcj02", standards, problems=problems)
    read_facilities(f"{tmp_path / 'paris.csv'}::category=食唐", standards, problems=problems)
    with pytest.raises(InputError) as bad_option:
        read_facilities(f"{tmp_path / 'title.csv'}::colour=red", standards)
    with pytest.raises(InputError) as many:
        Problems([problems.errors[0]] * 20).raise_errors()
    texts += [str(p) for p in problems.items + strict.items]
    texts += [str(bad_option.value).replace("colour=red", ""), str(many.value)]
    assert len(texts) >= 35
    for text in texts:
        said = re.sub(r"“[^”]*”|[\w/.-]+\.(csv|xls|geojson)", "", text)  # the data, quoted
        words = set(re.findall(r"[A-Za-z][A-Za-z_0-9]{2,}", said))
        assert words <= ALLOWED_ASCII, (words - ALLOWED_ASCII, text)
