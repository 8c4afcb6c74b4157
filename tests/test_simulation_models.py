"""Loading the small BPMN models of tests/bpmn_builders.py for simulation: checked as deploy checks them."""

from __future__ import annotations

from pathlib import Path

import pytest

from onewindow.engine._errors import ConfigError, DeploymentError
from onewindow.engine._simulation import load_model
from onewindow.engine._simulation.model import form_defaults

from .bpmn_builders import (
    COMMERCE,
    FINANCE,
    INVESTMENT,
    ISSUING,
    WINDOW,
    end,
    script,
    sequential,
    start,
    user,
    write_model,
)


def test_a_model_is_checked_as_deploy_checks_it(tmp_path: Path) -> None:
    model = load_model(sequential(tmp_path))
    assert list(model.user_tasks) == ["T1", "T2"]
    assert model.lanes == (WINDOW,)
    assert model.lane_for("window") == WINDOW and model.lane_for(WINDOW) == WINDOW
    assert model.lane_for("commerce") is None
    broken = tmp_path / "broken"
    path = write_model(broken, "broken", [start(), user("T1", form="no_such_form.json"), end()],
                       [("Ev_Start", "T1"), ("T1", "Ev_End")], {WINDOW: ["Ev_Start", "T1", "Ev_End"]})  # fmt: skip
    with pytest.raises(DeploymentError, match=r"no_such_form\.json"):
        load_model(path)


def test_shipped_matter_by_key_and_unknown_matter() -> None:
    model = load_model("foreign_investment_filing")
    assert model.lanes == (WINDOW, COMMERCE, INVESTMENT, FINANCE, ISSUING)
    assert "Task_Accept" not in model.user_tasks and "Task_Intake" in model.user_tasks
    with pytest.raises(ConfigError, match=r"unknown matter 'nope'; matters in .*foreign_investment_filing"):
        load_model("nope")


def test_form_defaults_answer_the_gateways() -> None:
    model = load_model("foreign_investment_filing")
    intake = form_defaults(model.user_tasks["Task_Intake"].form)
    assert intake == {"materials_received": ["M01", "M02", "M03", "M04", "M05", "M06"], "negative_list": False}
    assert form_defaults(model.user_tasks["Task_LeadDecision"].form) == {"decision": "approve"}
    assert form_defaults(model.user_tasks["Task_FinanceCoReview"].form) == {"co_opinion": "sim", "co_agree": True}


def test_cycle_timers_are_refused_by_the_simulator(tmp_path: Path) -> None:
    cycle = (
        '<bpmn:boundaryEvent id="Remind" name="Remind" attachedToRef="T1" cancelActivity="false">'
        '<bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/PT1H"'
        "</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    )
    path = write_model(
        tmp_path,
        "cycle_model",
        [start(), user("T1", simDuration="fixed(1) working_hours"), cycle, script("Note", "reminded = True"), end()],
        [("Ev_Start", "T1"), ("T1", "Ev_End"), ("Remind", "Note"), ("Note", "Ev_End")],
        {WINDOW: ["Ev_Start", "T1", "Remind", "Note", "Ev_End"]},
    )
    with pytest.raises(ConfigError, match=r"cycle_model\.bpmn: Remind: cycle timers are not supported"):
        load_model(path)
