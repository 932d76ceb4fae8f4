"""The statistics' bar chart of sessions per month: where each bar and each step of the count
axis goes. templates/guide/statistics.html draws it as SVG; the numbers are in its tables too.

A month with one session must still read beside a month with a hundred: every bar that counts
something is at least MIN_BAR high (its count is written above it), and the axis has labelled
steps, so a lone session is a short bar on a scale of 0 to 4, not a full-height one.
"""
from dataclasses import dataclass
from math import ceil

BAR_HEIGHT = 160  # px: the top of the axis
MIN_BAR = 8  # px: the lowest bar of a count above 0, high enough to see and to point at
BAR_WIDTH, SLOT = 40, 60  # px
LEFT = 44  # px: room for the axis' numbers
TOP = 22  # px: room above the tallest bar for its count
BELOW = 44  # px: room under the axis for the month and the year
MIN_TOP = 4  # the axis runs at least to 4, so that 1 is a quarter of it


@dataclass(frozen=True)
class Bar:
    month: str  # "2026-03"
    count: int
    x: int  # left edge
    y: int  # top edge
    height: int

    @property
    def middle(self) -> float:
        return self.x + BAR_WIDTH / 2


@dataclass(frozen=True)
class Step:
    value: int
    y: int


@dataclass(frozen=True)
class MonthChart:
    bars: list[Bar]
    steps: list[Step]
    width: int
    height: int
    base: int  # y of the axis
    top: int  # y of the axis' highest step
    left: int = LEFT  # x of the axis
    bar_width: int = BAR_WIDTH


def axis_step(peak: int) -> int:
    """The axis' step: 1, 2 or 5 times a power of ten, at most five steps up to `peak`."""
    magnitude = 1
    while True:
        for nice in (1, 2, 5):
            if peak <= nice * magnitude * 5:
                return nice * magnitude
        magnitude *= 10


def month_chart(months: list[tuple[str, int]]) -> MonthChart:
    """Bars for `months` ((month, count), in order) on a count axis from 0 up to a round number."""
    peak = max([count for _, count in months] or [0])
    step = axis_step(max(peak, 1))
    top_value = max(ceil(peak / step) * step, MIN_TOP)
    base = TOP + BAR_HEIGHT
    bars = []
    for index, (month, count) in enumerate(months):
        height = round(count / top_value * BAR_HEIGHT)
        if count:
            height = max(height, MIN_BAR)
        bars.append(Bar(month, count, LEFT + 10 + index * SLOT, base - height, height))
    steps = [Step(value, base - round(value / top_value * BAR_HEIGHT)) for value in range(0, top_value + 1, step)]
    return MonthChart(bars=bars, steps=steps, width=LEFT + 20 + len(months) * SLOT, height=base + BELOW, base=base,
                      top=TOP)
