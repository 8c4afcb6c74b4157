"""What-if simulation that runs the deployed BPMN on a simulated working-day clock.

    from . import RunConfig, load_model, load_params, simulate

    model = load_model("foreign_investment_filing")            # or a path to a .bpmn file
    params = load_params(Path("fi.sim.toml"), model)            # None: BPMN properties and defaults only
    result = simulate(model, params, RunConfig(arrivals=8, cases=500, seed=1,
                                               staff={"window": 2, "commerce": 2, "investment": 1,
                                                      "finance": 1, "issuing": 1}))
    print(result.table()); result.to_json()

Modules: ``distributions`` (durations and random streams), ``model`` (the parsed matter), ``params``
(the parameters file), ``axis`` (working-time axis ↔ calendar), ``runner`` (SpiffWorkflow steps,
recorded and reused), ``kernel`` (the event loop, lanes of clerks), ``results`` (statistics, table,
JSON), ``eventlog`` (CSV and XES), ``plot`` (PNG, matplotlib loaded on demand), ``compare`` (scenarios
with common random numbers and replications).
"""

from __future__ import annotations

from collections.abc import Callable

from .._time.workcalendar import WorkCalendar
from .kernel import RunConfig, Simulation
from .model import SimModel, load_model
from .params import SimParams, load_params, parse_params
from .results import SimulationResult

__all__ = [
    "RunConfig",
    "SimModel",
    "SimParams",
    "SimulationResult",
    "load_model",
    "load_params",
    "parse_params",
    "simulate",
]


def simulate(
    model: SimModel,
    params: SimParams | None,
    config: RunConfig,
    *,
    calendar: WorkCalendar | None = None,
    keep_log: bool = False,
    reuse: bool = True,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run one simulation. ``reuse=False`` steps every case through SpiffWorkflow (slow; same results)."""
    calendar = calendar or WorkCalendar()
    if params is None:
        params = load_params(None, model, day_minutes=calendar.office_hours.hours_per_day() * 60)
    simulation = Simulation(model, params, config, calendar=calendar, reuse=reuse, keep_log=keep_log, progress=progress)
    return SimulationResult.from_data(simulation.run())
