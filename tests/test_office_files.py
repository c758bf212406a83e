"""Office files as planners keep them (../shared/planner-samples): title rows, footers, GBK
Shapefiles without .cpg, cut DBF field names, and which datum each file is in."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from circles.cli import main
from circles.messages import language
from circles.sources.coords import datum_columns, to_wgs84
from circles.sources.planner_files import (
    Problems,
    read_boundaries,
    read_communities,
    read_facilities,
    read_sites,
)

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "planner-samples"
CHENGDU_BOX = box(104.0421, 30.6528, 104.1296, 30.7279)  # the Chengdu extract's bounds


def sample(name: str) -> Path:
    """A planner sample file; skip (with the reason) when absent."""
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"planner sample {path} not found: these tests need ../shared/planner-samples")
    return path


def metres_apart(a: gpd.GeoSeries, b: gpd.GeoSeries) -> pd.Series:
    """Metres between the centres of two WGS-84 geometry series, item by item."""
    utm = a.estimate_utm_crs()
    return a.to_crs(utm).centroid.distance(b.to_crs(utm).centroid)


def test_title_row_footer_and_blank_coordinates_are_skipped_with_a_warning(standards):
    problems = Problems()
    raw = f"{sample('老年助餐点_原始.xlsx')}::category=elderly_meal"
    gdf = read_facilities(raw, standards, extract_bounds=CHENGDU_BOX, problems=problems)
    assert problems.errors == []
    warnings = [str(p) for p in problems.warnings]
    assert any("表头在第 2 行；其上 1 行（标题、说明）已跳过" in w for w in warnings), warnings
    skipped = next(w for w in warnings if "没有坐标，已跳过" in w)
    assert "2 行没有坐标" in skipped
    assert "第 7 行（培华社区老年助餐点）、第 30 行（填表人" in skipped
    # the same 25 located canteens as the cleaned file, in the datum its 高德经度 column names
    clean = read_facilities(f"{sample('老年助餐点.xlsx')}::category=elderly_meal", standards)
    assert gdf["given_crs"].eq("gcj02").all()
    assert sorted(gdf["name"]) == sorted(n for n in clean["name"] if n != "培华社区老年助餐点")
    assert gdf["source_row"].tolist() == [r for r in range(3, 29) if r != 7]
    truth = pd.read_csv(sample("truth_meal_wgs84.csv"))
    got = gdf.merge(truth, left_on="name", right_on="名称")
    want = gpd.GeoSeries(gpd.points_from_xy(got["_wgs_lon"], got["_wgs_lat"]), crs=4326)
    assert metres_apart(gpd.GeoSeries(got.geometry, crs=4326), want).max() < 0.5


def test_strict_makes_rows_without_coordinates_an_error(standards):
    raw = f"{sample('老年助餐点_原始.xlsx')}::category=elderly_meal"
    problems = Problems(strict=True)
    read_facilities(raw, standards, problems=problems)
    assert len(problems.errors) == 1
    assert "2 行没有坐标：第 7 行（培华社区老年助餐点）" in str(problems.errors[0])
    with language("en"):
        read_facilities(raw, standards, problems=(english := Problems(strict=True)))
        assert "2 row(s) without coordinates: 7 (培华社区老年助餐点)" in str(english.errors[0])
    run = CliRunner().invoke(main, ["check", "--facilities", raw, "--strict"])
    assert run.exit_code == 2 and "2 行没有坐标" in run.output and "1 个错误" in run.output
    run = CliRunner().invoke(main, ["check", "--facilities", raw, "--strict", "--lang", "en"])
    assert run.exit_code == 2 and "2 row(s) without coordinates" in run.output
    assert "1 error(s), 1 warning(s)" in run.output
    run = CliRunner().invoke(main, ["check", "--facilities", raw])
    assert run.exit_code == 0 and "读取设施 25 处" in run.output


def test_check_without_files_says_what_to_give():
    run = CliRunner().invoke(main, ["check"])
    assert run.exit_code == 2
    assert run.output.startswith("circles：错误：没有可检查的文件：请提供 --facilities、")
    run = CliRunner().invoke(main, ["check", "--lang", "en"])
    assert run.output.startswith("circles: error: nothing to check: give --facilities,")


def test_header_below_notes_in_a_gbk_csv_keeps_spreadsheet_row_numbers(tmp_path, standards):
    path = tmp_path / "药店.csv"
    text = (
        "成华区药店名单\n说明：坐标为WGS-84\n\n名称,类别,经度,纬度\n"
        "甲药店,药店,104.07,30.67\n乙药店,药店,abc,30.68\n"
    )
    path.write_bytes(text.encode("gbk"))
    problems = Problems()
    gdf = read_facilities(path, standards, crs="wgs84", problems=problems)
    assert gdf["name"].tolist() == ["甲药店"] and gdf["source_row"].tolist() == [5]
    assert [str(p) for p in problems.errors] == [
        f"文件“{path}”，第 6 行，列“经度”：坐标应为数字，实为“abc”。"
    ]
    with language("en"):
        read_facilities(path, standards, crs="wgs84", problems=(english := Problems()))
        assert [str(p) for p in english.errors] == [
            f"{path}, row 6, column '经度': expected a coordinate number, got 'abc'."
        ]


def test_kindergarten_under_3_class_is_suggested_as_childcare(standards):
    problems = Problems()
    read_facilities(f"{sample('托育机构_原始.csv')}::crs=gcj02", standards, problems=problems)
    errors = [str(p) for p in problems.errors]
    assert len(errors) == 2 and all("“幼儿园托班”" in e for e in errors)
    assert all("是否指“托育”（托育机构（3岁以下），childcare）？" in e for e in errors), errors


def test_gbk_shapefile_without_cpg_reads_as_with_it():
    problems = Problems()
    with_cpg = read_boundaries(sample("街道.shp"), problems=problems)
    assert problems.items == []
    without = read_boundaries(sample("街道_无cpg.shp"), problems=problems)
    assert without["name"].tolist() == with_cpg["name"].tolist()
    assert without["population"].tolist() == with_cpg["population"].tolist()
    assert "万年场街道" in without["name"].tolist()
    assert [p.level for p in problems.items] == ["warning"]
    assert "没有 .cpg 文件：其文字已按 GBK 读取" in str(problems.items[0])


def test_cut_dbf_field_name_is_recognised_as_the_60_plus_column():
    problems = Problems()
    shapefile = read_communities(sample("社区_CGCS2000_GK.shp"), problems=problems)
    geojson = read_communities(sample("社区.geojson"), problems=problems)
    assert problems.items == []
    assert "60岁以上人" in gpd.read_file(sample("社区_CGCS2000_GK.shp")).columns
    assert shapefile["elderly"].notna().all()
    assert shapefile["elderly"].tolist() == geojson["elderly"].tolist()


def test_global_crs_leaves_files_that_state_their_own_alone(tmp_path):
    """--crs gcj02 is for the Amap tables: a Shapefile with a WGS-84 .prj, or a GeoJSON with
    a crs member, stays where it is; a GeoJSON without one, or a file option, is shifted."""
    streets = read_boundaries(sample("街道.shp"))
    for given in (sample("街道.shp"), sample("街道_无cpg.shp")):
        same = read_boundaries(given, crs="gcj02")
        assert metres_apart(same.geometry, streets.geometry).max() < 0.01
    shifted = read_boundaries(f"{sample('街道.shp')}::crs=gcj02", crs="wgs84")
    assert metres_apart(shifted.geometry, streets.geometry).min() > 200
    communities = read_communities(sample("社区.geojson"))
    kept = read_communities(sample("社区.geojson"), crs="gcj02")
    assert metres_apart(kept.geometry, communities.geometry).max() < 0.01
    bare = tmp_path / "社区_无crs.geojson"  # RFC 7946 style: no crs member
    text = sample("社区.geojson").read_text(encoding="utf-8")
    start = text.index('"crs"')
    bare.write_text(text[:start] + text[text.index('"features"') :], encoding="utf-8")
    moved = read_communities(bare, crs="gcj02")
    assert metres_apart(moved.geometry, communities.geometry).min() > 200


def test_a_table_in_china_without_a_datum_asks_which(standards):
    problems = Problems()
    gdf = read_facilities(sample("托育机构.csv"), standards, problems=problems)
    assert gdf.empty
    (error,) = [str(p) for p in problems.errors]
    assert "未说明坐标系" in error
    assert all(
        d in error for d in ("gcj02（高德/腾讯）", "bd09（百度）", "wgs84（GPS/天地图/OSM）")
    )
    # with the extract, the datum in which every point lies inside is named
    problems = Problems()
    read_facilities(sample("托育机构.csv"), standards, None, CHENGDU_BOX, problems)
    assert "按 gcj02（高德/腾讯）读取，所有点都在范围内" in str(problems.errors[0])
    for stated in ("::crs=gcj02", ""):
        problems = Problems()
        crs = "gcj02" if not stated else None
        read_facilities(f"{sample('托育机构.csv')}{stated}", standards, crs, problems=problems)
        assert problems.items == []


def test_candidate_sites_keep_ids_names_and_datum():
    with pytest.raises(Exception, match="未说明坐标系"):
        read_sites(sample("候选点.csv"))
    with language("en"), pytest.raises(Exception, match="no datum is stated"):
        read_sites(sample("候选点.csv"))
    sites = read_sites(sample("候选点.csv"), crs="gcj02")
    assert sites["given_crs"].eq("gcj02").all()
    assert sites["name"].iloc[0] == "候选点1（少城社区党群服务中心）"
    assert sites["site_id"].isna().all()  # the file has no id column


def test_header_of_columns_named_by_options_is_found_below_a_title(tmp_path, standards):
    path = tmp_path / "站点.csv"
    text = "2024年站点清单,,\n站点,X坐标,Y坐标\n甲站,104.07,30.67\n"
    path.write_text(text, encoding="utf-8")
    spec = f"{path}::name=站点,lon=X坐标,lat=Y坐标,category=药店,crs=wgs84"
    problems = Problems()
    gdf = read_facilities(spec, standards, problems=problems)
    assert problems.errors == []
    assert gdf["name"].tolist() == ["甲站"] and gdf["source_row"].tolist() == [3]


def test_datum_columns_give_amap_and_baidu_coordinates_back():
    """The known pair WGS-84 (39.90105, 116.42079) = GCJ-02 (39.90245, 116.42703)."""
    columns = datum_columns(np.array([116.42079]), np.array([39.90105]), ["GCJ-02", "wgs84"])
    assert list(columns) == ["gcj02_lon", "gcj02_lat"]
    assert columns["gcj02_lon"][0] == pytest.approx(116.42703, abs=2e-5)
    assert columns["gcj02_lat"][0] == pytest.approx(39.90245, abs=2e-5)
    lon, lat = np.array([104.07, 104.1]), np.array([30.67, 30.7])
    bd = datum_columns(lon, lat, ["bd09"])
    back = to_wgs84(bd["bd09_lon"], bd["bd09_lat"], "bd09")
    assert np.abs(back[0] - lon).max() < 2e-6 and np.abs(back[1] - lat).max() < 2e-6
    assert datum_columns(lon, lat, ["wgs84", None]) == {}
