"""circles: check 15-minute community life circles (15分钟社区生活圈) from OpenStreetMap."""

from __future__ import annotations

from circles._version import __version__
from circles.pipeline import analyze
from circles.present.tables import write_outputs
from circles.result import Analysis
from circles.standards import Standards, load_standards

__all__ = ["Analysis", "Standards", "__version__", "analyze", "load_standards", "write_outputs"]
