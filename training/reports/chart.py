"""A horizontal bar chart as plain geometry for an inline SVG (pure, no Flask)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_WIDTH = 150
BAR_WIDTH = 360
VALUE_WIDTH = 130
ROW_HEIGHT = 30
BAR_HEIGHT = 18
TOP = 8
MAX_LABEL_CHARS = 9


@dataclass(frozen=True)
class Bar:
    """One department's bar: its label, numbers and where to draw it."""

    label: str
    short_label: str
    done: int
    total: int
    y: float
    width: float

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 0

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT - 4


@dataclass(frozen=True)
class BarChart:
    """A chart of bars with its overall size."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def value_x(self) -> int:
        return self.label_width + self.bar_width + 8


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart(items: Sequence[tuple[str, int, int]]) -> BarChart:
    """Lay out (label, done, total) items as bars whose length is done/total."""
    bars = tuple(
        Bar(
            label=label,
            short_label=_shorten(label),
            done=done,
            total=total,
            y=TOP + index * ROW_HEIGHT,
            width=round(BAR_WIDTH * done / total, 1) if total else 0.0,
        )
        for index, (label, done, total) in enumerate(items)
    )
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    return BarChart(bars, LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, height)
