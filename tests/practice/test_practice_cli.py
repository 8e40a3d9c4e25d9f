"""`flask practice rebuild` recomputes the cards from the reviews."""

from __future__ import annotations


def test_rebuild_command_runs_for_everyone_and_for_one(runner, create_user):
    user = create_user()
    result = runner.invoke(args=["practice", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "0 employees" in result.output
    result = runner.invoke(args=["practice", "rebuild", "--employee-no", user.employee_no])
    assert result.exit_code == 0, result.output
    assert "1 employees, 0 cards" in result.output
    result = runner.invoke(args=["practice", "rebuild", "--employee-no", "NOBODY"])
    assert result.exit_code == 1
