"""How an access rule measures residents: whom it counts, the share within reach, the median
and worst walk. Analysis, scoring, recommending and maps all measure through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from circles.messages import say
from circles.standards import AccessRule

TOLERANCE = 1e-9  # a share this close below its target still meets it (float sums)


def meets(value: float | np.ndarray, target: float) -> bool | np.ndarray:
    """Whether a measured value reaches its target (allowing for float rounding)."""
    return value >= target - TOLERANCE


def beyond_as_inf(dist_m: np.ndarray) -> np.ndarray:
    """Walking distances with ``NaN`` (not reached within the search limit) as ``inf``."""
    return np.where(np.isnan(dist_m), np.inf, dist_m)


def rule_weights(rule: AccessRule, demand: Mapping[str, np.ndarray]) -> tuple[np.ndarray, str, str]:
    """The residents an access rule counts at each demand point, and a note saying so.

    Parameters
    ----------
    rule
        The access rule; its ``population`` is ``total``, ``elderly`` or ``children``.
    demand
        Per demand point: ``population``, and ``elderly`` / ``children`` where the planner's
        communities give them (a DataFrame or a mapping of arrays).

    Returns
    -------
    weights, counted, note
        All residents (``counted`` is ``total``) when the rule counts everyone, or when the
        counts it asks for are not known at every point (the note says so); otherwise the
        elderly or the children (``counted`` says which).
    """
    total = np.asarray(demand["population"], dtype=float)
    if rule.population == "total":
        return total, "total", ""
    who = say(f"who_{rule.population}")
    values = demand.get(rule.population)
    values = None if values is None else np.asarray(values, dtype=float)
    if values is None or len(values) != len(total) or np.isnan(values).any():
        return total, "total", say("weighted_by_all", who=who)
    return values, rule.population, say("weighted_by", who=who)


@dataclass
class GroupStats:
    """Per group of demand points (a community, or one group for the district).

    ``total`` residents counted, ``inside`` those within the threshold, ``reached`` those
    within the search limit; ``median`` (weighted) and ``worst`` walking distance, ``inf``
    where beyond the search limit and ``NaN`` for a group without residents.
    """

    total: np.ndarray
    inside: np.ndarray
    reached: np.ndarray
    median: np.ndarray
    worst: np.ndarray

    @property
    def share(self) -> np.ndarray:
        """Share of the counted residents within the threshold (``NaN`` without residents)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.total > 0, self.inside / self.total, np.nan)


def group_stats(
    codes: np.ndarray, n: int, dist_m: np.ndarray, weights: np.ndarray, threshold_m: float
) -> GroupStats:
    """Weighted coverage, median and worst walk per group, in a few array passes.

    Parameters
    ----------
    codes
        Group ``0..n-1`` of every demand point.
    n
        Number of groups.
    dist_m
        Walking distance per demand point, ``inf`` beyond the search limit.
    weights
        Residents counted at each point (see ``rule_weights``).
    threshold_m
        The rule's threshold in metres.
    """
    total = np.bincount(codes, weights, minlength=n)
    if len(weights) == 0:
        zero, nan = np.zeros(n), np.full(n, np.nan)
        return GroupStats(zero, zero, zero, nan, nan)
    order = np.lexsort((dist_m, codes))
    c, d, p = codes[order], dist_m[order], weights[order]
    start = np.searchsorted(c, np.arange(n))
    end = np.searchsorted(c, np.arange(n), side="right")
    cum = np.cumsum(p)
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    # first point at half the group's weight (less a rounding allowance: the cumulative sum
    # runs over all groups, and an exact half between equal weights takes the lower point)
    mid = np.searchsorted(cum, before + 0.5 * total - TOLERANCE * max(cum[-1], 1))
    has = (end > start) & (total > 0)
    mid = np.clip(mid, start, np.maximum(end - 1, start))
    return GroupStats(
        total=total,
        inside=np.bincount(codes, weights * (dist_m <= threshold_m), minlength=n),
        reached=np.bincount(codes, weights * np.isfinite(dist_m), minlength=n),
        median=np.where(has, d[np.minimum(mid, len(d) - 1)], np.nan),
        worst=np.where(end > start, d[np.maximum(end - 1, 0)], np.nan),
    )


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median of one group (``inf`` allowed); ``NaN`` without weight."""
    return float(group_stats(np.zeros(len(values), np.int64), 1, values, weights, 0.0).median[0])
