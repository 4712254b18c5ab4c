"""The coverage floor: the whole suite must run a set share of the lines in proxy/ and integrations/.

pytest-cov measures lines and branches (pyproject.toml, `[tool.coverage.*]`) in the test
process and in every `python -m proxy.cli ...` the tests start, and prints its report. Its
Cover column and TOTAL count statements and branches together; the floor we hold is on lines,
set by `coverage_line_floor` in `[tool.pytest.ini_options]`. This plugin prints both figures
under the report and fails the run when the lines fall below the floor.

A run of some of the tests (`pytest tests/engine/test_cli_output.py`, `-k`, `--lf`) prints the figures
but does not hold the floor: a part of the suite cannot reach it. `--no-cov` skips coverage.

The processes the tests start write their data under a folder of this run's own (COVERAGE_FILE,
which they inherit), moved next to pytest-cov's data file just before it combines: another
pytest started in the same working tree meanwhile neither erases nor swallows them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

FLOOR = "coverage_line_floor"


@dataclass
class _Totals:
    statements: int = 0
    missing: int = 0
    branches: int = 0
    missing_branches: int = 0

    @staticmethod
    def percent(total: int, missing: int) -> float:
        return 100.0 * (total - missing) / total if total else 100.0

    @property
    def lines(self) -> float:
        return self.percent(self.statements, self.missing)

    @property
    def branch(self) -> float:
        return self.percent(self.branches, self.missing_branches)


_totals = pytest.StashKey[_Totals]()
_partial = pytest.StashKey[bool]()
_failed = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(FLOOR, "least share of lines (percent) the whole suite must run", default="0")


def _controller(config: pytest.Config):
    """pytest-cov's running controller, or None (`--no-cov`, or pytest-cov absent)."""
    return getattr(config.pluginmanager.getplugin("_cov"), "cov_controller", None)


class _HandOver:
    """Gives the data files of this run's processes to pytest-cov before it combines."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session):
        # Inside pytest-cov's wrapper: every test (and its yamcp processes) is done, and
        # nothing is combined yet.
        try:
            return (yield)
        finally:
            for path in self.run_dir.iterdir():
                path.rename(self.run_dir.parent / path.name)
            shutil.rmtree(self.run_dir, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    controller = _controller(config)
    if controller is None or hasattr(config, "workerinput"):
        return
    data_file = Path(os.path.abspath(controller.cov.config.data_file))
    run_dir = data_file.parent / f"run-{os.getpid()}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    os.environ["COVERAGE_FILE"] = str(run_dir / data_file.name)
    config.pluginmanager.register(_HandOver(run_dir), "yamcp-coverage-hand-over")


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_partial] = True


def _whole_suite(config: pytest.Config) -> bool:
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not config.stash.get(_partial, False)
        # under xdist the workers deselect, not this process: `-k`, `-m` and `--lf` say it
        and not (config.option.keyword or config.option.markexpr or config.getoption("lf", False))
        and not config.option.collectonly
    )


def _measure(cov) -> _Totals:  # cov: coverage.Coverage, after pytest-cov combined the data
    totals = _Totals()
    for path in cov.get_data().measured_files():
        numbers = cov._analyze(path).numbers
        totals.statements += numbers.n_statements
        totals.missing += numbers.n_missing
        totals.branches += numbers.n_branches
        totals.missing_branches += numbers.n_missing_branches
    return totals


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session):
    # Outside pytest-cov's own wrapper: when it returns, the data of every process is combined.
    result = yield
    controller = _controller(session.config)
    if controller is None or session.config.option.collectonly:
        return result
    totals = _measure(controller.cov)
    session.config.stash[_totals] = totals
    floor = float(session.config.getini(FLOOR))
    if _whole_suite(session.config) and totals.lines < floor:
        session.config.stash[_failed] = True
        session.testsfailed += 1
    return result


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    totals = config.stash.get(_totals, None)
    if totals is None:
        return
    floor = float(config.getini(FLOOR))
    figures = (
        f"lines {totals.lines:.1f}% ({totals.statements - totals.missing}/{totals.statements}), "
        f"branches {totals.branch:.1f}% "
        f"({totals.branches - totals.missing_branches}/{totals.branches})"
    )
    if config.stash.get(_failed, False):
        terminalreporter.write_line(
            f"FAIL coverage of proxy/ and integrations/: {figures}; "
            f"the floor is {floor:g}% of lines",
            red=True,
            bold=True,
        )
    elif _whole_suite(config):
        terminalreporter.write_line(
            f"Coverage of proxy/ and integrations/: {figures}; floor {floor:g}% of lines met",
            green=True,
        )
    else:
        terminalreporter.write_line(
            f"Coverage of proxy/ and integrations/: {figures} "
            f"(part of the suite: the {floor:g}% floor holds for the whole suite only)"
        )
