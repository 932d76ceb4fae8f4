"""The months chart's geometry (blueprints/guide/chart.py): a month with one session still reads."""
import pytest

from blueprints.guide import chart


@pytest.mark.parametrize(("peak", "step"), [(1, 1), (4, 1), (5, 1), (6, 2), (10, 2), (11, 5), (40, 10), (60, 20),
                                            (101, 50), (999, 200)])
def test_the_axis_has_at_most_five_round_steps(peak, step):
    assert chart.axis_step(peak) == step


def test_one_session_in_a_busy_period_is_a_bar_of_the_least_height():
    lone, busy = chart.month_chart([("2026-01", 1), ("2026-02", 60)]).bars
    assert lone.height == chart.MIN_BAR and busy.height == chart.BAR_HEIGHT
    assert lone.y + lone.height == busy.y + busy.height  # both stand on the axis


def test_a_single_session_is_a_quarter_of_an_axis_of_four():
    drawn = chart.month_chart([("2026-05", 1)])
    assert [step.value for step in drawn.steps] == [0, 1, 2, 3, 4]
    assert drawn.bars[0].height == chart.BAR_HEIGHT // 4
    assert drawn.bars[0].y == drawn.steps[1].y


def test_no_month_draws_an_empty_axis():
    drawn = chart.month_chart([])
    assert drawn.bars == [] and drawn.steps[0].value == 0
