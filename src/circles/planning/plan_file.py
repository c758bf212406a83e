"""A planner's plan file (CSV, XLSX...): one action per row, read into scenario actions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from circles.errors import InputError
from circles.messages import say
from circles.planning.scenario import KINDS, MAX_ACTIONS, Action
from circles.sources.planner_files import (
    FileSpec,
    Problems,
    Table,
    find_column,
    normalise,
    numbers,
    points_from_table,
    read_table,
)

ACTION_COLUMNS = ("action", "操作", "动作", "变更", "措施", "规划动作")


def read_plan(path: str | Path | FileSpec, crs: str | None = None) -> list[Action]:
    """The actions of a plan file, each labelled with its file and row (``read_plan_datum``
    without the datum)."""
    return read_plan_datum(path, crs)[0]


def read_plan_datum(
    path: str | Path | FileSpec, crs: str | None = None
) -> tuple[list[Action], str | None]:
    """The actions of a plan file, each labelled with its file and row, and the datum its
    coordinates were in (what the file option or a column name such as 高德经度 says, else
    ``crs``; ``None`` for a plan without coordinates and without ``crs``).

    Columns: ``action`` (add/close/move or 新增/关闭/迁移), ``category`` (id, Chinese or
    English name, alias), coordinates as ``--facilities`` takes them (lon/lat, 经度/纬度,
    高德经度..., a location column; datum from the file option, a column name or ``crs``) for
    add and move, ``facility_id`` for close and move; optionally ``name``, ``capacity`` and
    ``area_m2`` of a new site. The actions' meaning is checked by ``check_actions``.

    Raises
    ------
    InputError
        An unreadable file, no action column, bad coordinates of an add or move (points in
        China with no datum stated among them: which is it?), or more than ``MAX_ACTIONS``
        rows; every problem listed with file, row and column.
    """
    spec = FileSpec.parse(path)
    problems = Problems()
    table = read_table(spec, problems)
    problems.raise_errors()
    if len(table.frame) > MAX_ACTIONS:
        n = len(table.frame)
        raise InputError(say("out_plan_file_too_many", file=spec, n=n, max=MAX_ACTIONS))
    by_norm = {normalise(c): c for c in table.frame.columns}
    action_col = next((by_norm[n] for n in map(normalise, ACTION_COLUMNS) if n in by_norm), None)
    if action_col is None:
        columns = list(table.frame.columns)
        listed = "、".join(f"“{c}”" for c in columns)
        msg = say("out_plan_no_action", file=spec, columns=columns, listed=listed)
        raise InputError(msg)
    kinds = [KINDS.get(normalise(v)) if pd.notna(v) else None for v in table.frame[action_col]]
    lon, lat, datum = _positions(table, spec, crs, problems, np.isin(kinds, ["add", "move"]))
    columns = {k: find_column(table, spec, k, problems) for k in ("category", "id", "name")}
    capacity = numbers(table, find_column(table, spec, "capacity", problems), spec, problems)
    area = numbers(table, find_column(table, spec, "area", problems), spec, problems)
    problems.raise_errors()
    frame = table.frame
    actions = [
        Action(
            kind=frame[action_col].iloc[i],
            category=_text(frame, columns["category"], i),
            lon=lon[i],
            lat=lat[i],
            facility_id=_text(frame, columns["id"], i),
            name=_text(frame, columns["name"], i),
            capacity=capacity[i],
            area_m2=area[i],
            label=say(f"out_plan_{table.row_label}", file=spec.path, n=table.row[i]),
        )
        for i in range(len(frame))
    ]
    return actions, datum


def _positions(
    table: Table, spec: FileSpec, crs: str | None, problems: Problems, needed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """WGS-84 lon/lat of the rows that need them (adds and moves), NaN elsewhere; and the
    datum they were read in (``crs`` without any). Read as ``--facilities`` are: no default
    datum, so points in China without one stated are an error."""
    n = len(table.frame)
    lon, lat, datum = np.full(n, np.nan), np.full(n, np.nan), crs
    if needed.any():
        rows = np.flatnonzero(needed)
        sub = Table(
            table.frame.iloc[rows].reset_index(drop=True),
            None if table.geometry is None else table.geometry.iloc[rows],
            table.row[rows],
            table.row_label,
        )
        lon[rows], lat[rows], _, datum = points_from_table(sub, spec, crs, problems)
    return lon, lat, datum


def _text(frame: pd.DataFrame, column: str | None, i: int) -> str | None:
    """A cell as stripped text, ``None`` if blank or without the column."""
    if column is None or pd.isna(frame[column].iloc[i]):
        return None
    return str(frame[column].iloc[i]).strip() or None
