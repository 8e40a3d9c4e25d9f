"""A horizontal bar chart as plain data for the dashboard (pure, no Flask).

Labels and numbers are HTML text, so they keep the page's font size on a phone; only each
bar is a small SVG that stretches to the width there is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One department's bar: its label and numbers."""

    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 0

    @property
    def width(self) -> float:
        """The bar's length in percent of the track, unrounded to a whole number."""
        return round(100 * self.done / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class BarChart:
    """A chart of bars, in order."""

    bars: tuple[Bar, ...]


def bar_chart(items: Sequence[tuple[str, int, int]]) -> BarChart:
    """Lay out (label, done, total) items as bars whose length is done/total."""
    return BarChart(tuple(Bar(label, done, total) for label, done, total in items))
