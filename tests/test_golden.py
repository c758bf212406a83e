"""Golden outputs: gaps.csv, summary.json (minus timings) and analysis.gpkg layer values on
Chengdu and Shenzhen stay what they were.

A change that moves a number on purpose regenerates the golden files in the same commit and
says why in its message::

    python tests/test_golden.py            # rewrites tests/golden/*
"""

from __future__ import annotations

import gzip
import io
import json
import math
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).parent))  # conftest's paths when run as a script
from conftest import CHENGDU, SHENZHEN, need

GOLDEN = Path(__file__).parent / "golden"
EXTRACTS = {"chengdu": CHENGDU, "shenzhen": SHENZHEN}
LAYERS = ("communities", "facilities", "demand_points", "network_edges", "water")
VOLATILE = ("timings_s", "cache")  # differ from run to run, not results


def _summary(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for key in VOLATILE:
        summary.pop(key, None)
    summary["input"]["osm"] = Path(summary["input"]["osm"]).name
    summary["standards"]["path"] = Path(summary["standards"]["path"] or "").name
    files = summary["standards"].get("files", [])
    summary["standards"]["files"] = [Path(f).name for f in files]
    return summary


def _layer_csv(folder: Path, layer: str) -> str:
    """A layer's attribute values and geometry (WKT, 7 decimals) as CSV text."""
    frame = pyogrio.read_dataframe(folder / "analysis.gpkg", layer=layer)
    wkt = shapely.to_wkt(frame.geometry.values, rounding_precision=7)
    table = pd.DataFrame(frame.drop(columns="geometry")).assign(wkt=wkt)
    return table.to_csv(index=False, float_format="%.9g")


def outputs(folder: Path) -> dict[str, str]:
    """What the golden files hold, as text: file name -> content."""
    out = {
        "gaps.csv": (folder / "gaps.csv").read_text(encoding="utf-8-sig"),
        "summary.json": json.dumps(_summary(folder), ensure_ascii=False, indent=1) + "\n",
    }
    for layer in LAYERS:
        out[f"{layer}.csv"] = _layer_csv(folder, layer)
    return out


def run(name: str, out: Path) -> Path:
    """``circles analyze`` of one extract into ``out``, through the CLI as a planner runs it."""
    from click.testing import CliRunner

    from circles.cli import main

    osm = need(EXTRACTS[name])
    result = CliRunner().invoke(main, ["analyze", "--osm", str(osm), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _close(a: object, b: object, where: str) -> None:
    """Equal, floats to 1e-9 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), f"{where}: {a!r} != {b!r}"
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _read_gz(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_outputs_match_golden(name, tmp_path):
    now = outputs(run(name, tmp_path / name))
    folder = GOLDEN / name
    for file, text in now.items():
        if file == "summary.json":
            golden = json.loads((folder / file).read_text(encoding="utf-8"))
            _close(json.loads(text), golden, f"{name}/summary.json")
            continue
        golden = pd.read_csv(io.StringIO(_read_gz(folder / f"{file}.gz")), keep_default_na=False)
        current = pd.read_csv(io.StringIO(text), keep_default_na=False)
        assert list(current.columns) == list(golden.columns), f"{name}/{file}: columns differ"
        assert len(current) == len(golden), f"{name}/{file}: {len(current)} != {len(golden)} rows"
        pd.testing.assert_frame_equal(
            current, golden, check_dtype=False, rtol=1e-9, obj=f"{name}/{file}"
        )


def regenerate() -> None:
    """Rewrite the golden files from the current code."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(EXTRACTS):
            folder = GOLDEN / name
            folder.mkdir(parents=True, exist_ok=True)
            for file, text in outputs(run(name, Path(tmp) / name)).items():
                if file == "summary.json":
                    (folder / file).write_text(text, encoding="utf-8")
                else:  # mtime=0: the same content gives the same bytes
                    data = gzip.compress(text.encode("utf-8"), mtime=0)
                    (folder / f"{file}.gz").write_bytes(data)
                print(f"wrote {folder / file}")


if __name__ == "__main__":
    regenerate()
