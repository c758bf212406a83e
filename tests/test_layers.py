"""The package's shape: data flows one way through its layers, and every function reads on a
screen."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "circles"
MAX_LINES = 60  # a screen: a function's code, its docstring not counted


def test_layers_and_no_import_cycles():
    """import-linter's contracts in pyproject.toml: layers (sources -> model -> access -> rules
    -> planning -> present -> pipeline -> cli) and no cycle between sibling modules."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install '.[test]')")
    done = subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken" in done.stdout


def _function_lengths() -> list[tuple[int, str]]:
    """(code lines, where) of every function in ``src/``, docstrings left out."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    lines -= first.end_lineno - first.lineno + 1
                out.append((lines, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return sorted(out, reverse=True)


def test_every_function_reads_on_one_screen():
    long = [f"{where} ({n} lines)" for n, where in _function_lengths() if n > MAX_LINES]
    assert not long, "split by what they do: " + ", ".join(long)
