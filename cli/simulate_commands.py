"""``onewindow simulate``: what-if analysis on the real BPMN, and ``simulate compare`` for scenarios.

No database is needed: the matter is read from processes/ (or a BPMN path) and checked as ``deploy
--check`` would. Output on stdout is deterministic for a given seed; progress goes to stderr.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from onewindow.engine import (
    ARRIVAL_PROCESSES,
    RunConfig,
    WorkCalendar,
    load_bureau_scenario,
    load_model,
    load_overrides,
    load_params,
    load_scenario,
    run_bureau,
    run_scenario,
    simulate,
    write_csv,
    write_plot,
    write_xes,
)

from .app import cli, domain_errors
from .types import DAY, POSITIVE_INT, POSITIVE_NUMBER, STAFF, merge_staff

PROGRESS_FROM = 2000  # cases (or runs × cases) from which a TTY gets a progress bar


class _DefaultToRun(click.Group):
    """``onewindow simulate MATTER …`` means ``onewindow simulate run MATTER …``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _calendar(path: Path | None) -> WorkCalendar:
    return WorkCalendar(load_overrides(path)) if path else WorkCalendar()


class _Progress:
    """A click progress bar on stderr, shown only on a terminal and for long runs (redrawn every 0.5%)."""

    def __init__(self, total: int, label: str) -> None:
        self.bar: Any = None
        self.pending, self.step = 0, max(1, total // 200)
        if total >= PROGRESS_FROM and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()

    def __call__(self, done: int) -> None:
        self.pending += done
        if self.bar is not None and self.pending >= self.step:
            self.bar.update(self.pending)
            self.pending = 0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.pending)
            self.bar.__exit__(None, None, None)


@cli.group("simulate", cls=_DefaultToRun)
def simulate_group() -> None:
    """What-if simulation on the working-day calendar: `simulate MATTER …` runs one, `compare` a scenario,
    `bureau` the whole bureau."""


@simulate_group.command("run")
@click.argument("matter")
@click.option("--cases", type=POSITIVE_INT, help="Simulate N arrivals and run until all are done (default 1000).")
@click.option("--days", type=POSITIVE_NUMBER, help="Simulate D working days of arrivals; cases open then are reported.")
@click.option("--arrivals", type=POSITIVE_NUMBER, required=True, help="Cases per working day, over office hours.")
@click.option("--staff", type=STAFF, multiple=True, help="Clerks per lane (lane name or section code).")
@click.option(
    "--params", "params_path", type=click.Path(path_type=Path, dir_okay=False), help="Parameters (.toml/.json)."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", "start_day", type=DAY, default="2026-03-02", show_default=True, help="First day.")
@click.option("--arrival-process", type=click.Choice(ARRIVAL_PROCESSES), default="even", show_default=True,
              help="even: exactly N a day, evenly spaced; poisson: random gaps with that mean.")  # fmt: skip
@click.option("--calendar", "calendar_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Working-day overrides (CSV or TOML, as `calendar import`).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path, dir_okay=False), help="Write a PNG.")
@click.option("--log", "log_path", type=click.Path(path_type=Path, dir_okay=False), help="Write a CSV event log.")
@click.option("--xes", "xes_path", type=click.Path(path_type=Path, dir_okay=False), help="Write an XES event log.")
@click.option("--no-reuse", is_flag=True, help="Step every case through SpiffWorkflow (slow; same results).")
@domain_errors
def simulate_run(
    matter: str,
    cases: int | None,
    days: float | None,
    arrivals: float,
    staff: tuple[dict[str, int], ...],
    params_path: Path | None,
    seed: int,
    start_day: date,
    arrival_process: str,
    calendar_path: Path | None,
    as_json: bool,
    plot_path: Path | None,
    log_path: Path | None,
    xes_path: Path | None,
    no_reuse: bool,
) -> None:
    """Simulate MATTER (a matter key or a .bpmn path) with this demand and staffing."""
    if cases is not None and days is not None:
        raise click.UsageError("give either --cases or --days, not both")
    if cases is None and days is None:
        cases = 1000
    calendar = _calendar(calendar_path)
    model = load_model(matter)
    params = load_params(params_path, model, day_minutes=calendar.office_hours.hours_per_day() * 60)
    config = RunConfig(
        arrivals=arrivals, staff=merge_staff(staff), cases=cases, days=days, seed=seed,
        start=start_day, arrival_process=arrival_process,
    )  # fmt: skip
    progress = _Progress(cases or int((days or 0) * arrivals), "simulating")
    try:
        result = simulate(
            model, params, config, calendar=calendar, keep_log=bool(log_path or xes_path),
            reuse=not no_reuse, progress=progress,
        )  # fmt: skip
    finally:
        progress.close()
    click.echo(result.to_json() if as_json else result.table(), nl=False)
    if log_path or xes_path:
        if log_path:
            write_csv(result.data, log_path)
        if xes_path:
            write_xes(result.data, xes_path)
    if plot_path:
        write_plot(result.data, result.summary, plot_path)


@simulate_group.command("compare")
@click.argument("scenario_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replications", type=POSITIVE_INT, help="Override the scenario's number of replications.")
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@domain_errors
def simulate_compare(scenario_file: Path, replications: int | None, seed: int | None, as_json: bool) -> None:
    """Run the variants of SCENARIO_FILE with common random numbers and compare cycle times."""
    scenario = load_scenario(scenario_file, replications=replications, seed=seed)
    progress = _Progress(scenario.total_cases(), "simulating")
    try:
        comparison = run_scenario(scenario, progress=progress)
    finally:
        progress.close()
    click.echo(comparison.to_json() if as_json else comparison.table(), nl=False)


@simulate_group.command("bureau")
@click.argument("scenario_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--days", type=POSITIVE_NUMBER, help="Override the scenario's working days.")
@click.option("--matter", "matters", multiple=True, help="Also print this matter's full `simulate` table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@domain_errors
def simulate_bureau(
    scenario_file: Path, seed: int | None, days: float | None, matters: tuple[str, ...], as_json: bool
) -> None:
    """Simulate every matter of SCENARIO_FILE at once, with shared clerks and service points."""
    scenario = load_bureau_scenario(scenario_file, seed=seed, days=days)
    names = [m.name for m in scenario.matters]
    for name in matters:
        if name not in names:
            raise click.BadParameter(f"'{name}' is not a matter of {scenario_file}; matters: {', '.join(names)}",
                                     param_hint="'--matter'")  # fmt: skip
    progress = _Progress(scenario.total_cases(), "simulating")
    try:
        result = run_bureau(scenario, progress=progress)
    finally:
        progress.close()
    if as_json:
        click.echo(result.to_json(), nl=False)
        return
    click.echo(result.table(), nl=False)
    for name in matters:
        click.echo("\n" + result.matters[name].table(), nl=False)
