"""Which special procedures stop the legal clock: 行政许可法 Art. 45's, and others only by the matter's own law."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from onewindow.engine import Engine, FixedClock, ValidationError, load_bureau
from onewindow.engine._config.catalogue import parse_catalogue
from onewindow.engine._engine import default_processes_dir

from .helpers import FI, FI_APPLICANT, accept, china, open_tasks

BASIS = "《食品经营许可管理办法》第十四条(示例)"


def test_on_site_inspection_does_not_stop_the_clock_under_art_45(engine: Engine, clock: FixedClock) -> None:
    case_no = accept(engine, clock, china(2026, 3, 2, 9, 30))
    due_before = engine.cases.show(case_no).summary.committed_due_at
    for kind in ("inspection", "other"):
        with pytest.raises(ValidationError, match=r"not a special procedure of 行政许可法 Art\. 45") as err:
            engine.case_clock.pause(case_no, kind=kind, reason="现场核查", actor="zhangwei")
        assert "special_procedures" in str(err.value)
    view = engine.cases.show(case_no)
    assert view.summary.paused_at is None and view.summary.committed_due_at == due_before
    assert not any(e.kind == "clock_paused" for e in view.history)

    engine.case_clock.pause(case_no, kind="expert_review", reason="专家评审", actor="zhangwei")
    paused = [e for e in engine.cases.show(case_no).history if e.kind == "clock_paused"]
    assert paused[0].data["basis"] == "《中华人民共和国行政许可法》第四十五条"


def test_a_matter_whose_law_excludes_inspection_names_it(engine: Engine, clock: FixedClock, tmp_path: Path) -> None:
    folder = tmp_path / "v2"
    folder.mkdir()
    shutil.copy(default_processes_dir() / f"{FI}.bpmn", folder)
    catalogue = (default_processes_dir() / f"{FI}.toml").read_text("utf-8")
    catalogue = catalogue.replace(
        "\n[[materials]]", f'\nspecial_procedures = {{ inspection = "{BASIS}" }}\n\n[[materials]]', 1
    )
    (folder / f"{FI}.toml").write_text(catalogue, "utf-8")
    assert [o.version for o in engine.repository.deploy(folder / f"{FI}.bpmn")] == [2]
    clock.set(china(2026, 3, 2, 9, 30))
    case_no = engine.cases.start(FI, FI_APPLICANT, actor="lijing").case_no
    intake = open_tasks(engine, case_no)["Task_Intake"]
    engine.tasks.complete(
        intake.id,
        user="lijing",
        data={"materials_received": ["M01", "M02", "M03", "M04", "M06"], "negative_list": False},
    )
    engine.case_clock.pause(case_no, kind="inspection", reason="现场核查", actor="zhangwei")
    paused = [e for e in engine.cases.show(case_no).history if e.kind == "clock_paused"]
    assert paused[0].data == {"kind": "inspection", "reason": "现场核查", "basis": BASIS}
    assert engine.cases.show(case_no).summary.paused_at is not None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('special_procedures = { hearing = "x" }', "stop the clock under 行政许可法 Art. 45 already"),
        ('special_procedures = { inspection = "" }', "needs the law that excludes its time"),
        ('special_procedures = "inspection"', "must be a table"),
    ],
)
def test_catalogue_checks_special_procedures(tmp_path: Path, line: str, message: str) -> None:
    catalogue = (default_processes_dir() / f"{FI}.toml").read_text("utf-8")
    path = tmp_path / f"{FI}.toml"
    path.write_text(catalogue.replace("\n[[materials]]", f"\n{line}\n\n[[materials]]", 1), "utf-8")
    _matter, problems = parse_catalogue(path, load_bureau(default_processes_dir() / "bureau.toml"))
    assert any(message in p.message and p.element == "special_procedures" for p in problems), problems
