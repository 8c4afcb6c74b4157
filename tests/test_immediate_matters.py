"""即办件: 个体工商户设立登记 (the immediate template bound by the catalogue machinery, taken at all three levels)
runs from a community station's window to its licence; 企业设立登记 ends within its promised 1 working day on
the official calendar."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from onewindow.engine import CHINA_TZ, CaseStatus, Engine, FixedClock, default_forms_dir, load_bureau
from onewindow.engine._config.catalogue import parse_catalogue
from onewindow.engine._config.catalogue_table import ImportRow, MaterialRow, generate_files

from .helpers import BPMNLINT, ER_APPLICANT, open_tasks

IB = "individual_business_registration"
PROCESSES = Path(__file__).resolve().parents[1] / "processes"
IB_APPLICANT = json.loads((PROCESSES / "examples" / f"{IB}.applicant.json").read_text("utf-8"))


def regenerated_bpmn() -> bytes:
    """What ``catalogue import`` writes for the matter's row with the ``immediate`` template (its own forms
    ``<key>_application.json`` and ``<key>_intake.json`` picked up from forms/)."""
    bureau = load_bureau(PROCESSES / "bureau.toml")
    matter, problems = parse_catalogue(PROCESSES / f"{IB}.toml", bureau)
    assert matter is not None and not problems, problems
    row = ImportRow(
        line=0,
        key=IB,
        code=matter.code,
        name=matter.name,
        implementation_code=matter.implementation_code,
        matter_type=matter.matter_type,
        implementing_body=bureau.name,
        source_department="",
        transferred=True,
        levels=matter.service_levels,
        handling_type=matter.handling_type,
        legal_limit=matter.legal_limit,
        committed_limit=matter.committed_limit,
        lead_section=matter.lead_section,
        co_sections=matter.co_sections,
        departments=matter.departments,
        template="immediate",
        materials=tuple(MaterialRow(m.name) for m in matter.materials),
    )
    return generate_files(row, bureau, default_forms_dir(), "shipped")[f"{IB}.bpmn"]


def test_the_shipped_bpmn_is_the_immediate_template_bound_to_its_catalogue(tmp_path: Path) -> None:
    # regenerate with: the bytes of regenerated_bpmn() written to processes/individual_business_registration.bpmn
    assert (PROCESSES / f"{IB}.bpmn").read_bytes() == regenerated_bpmn()
    if shutil.which("npm") and BPMNLINT is not None:
        out = subprocess.run(
            [str(BPMNLINT), str(PROCESSES / f"{IB}.bpmn")], capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert out.returncode == 0, out.stdout + out.stderr


def test_a_community_station_registers_an_individual_business_on_the_spot(engine: Engine) -> None:
    matter = engine.repository.matter(IB)[0]
    assert (matter.handling_type, matter.service_levels) == ("immediate", ("district", "street", "community"))
    assert [p.code for p in engine.bureau.points_for(matter.service_levels)] == ["district", "jiangxijie", "ximianqiao"]
    case_no = engine.cases.start(IB, IB_APPLICANT, actor="tangli").case_no
    summary = engine.cases.show(case_no).summary
    assert (summary.point, summary.applicant_name) == ("ximianqiao", "武侯区洗面桥张记小面馆")
    for bpmn_id, user, data in (
        ("Task_Intake", "tangli", {"materials_received": ["M01", "M02", "M03"]}),  # M04, M05 only where they apply
        ("Task_Decision", "sunli", {"decision": "approve"}),  # the district's section decides for every point
        ("Task_Seal", "sunli", {"seal_no": "510107-04"}),
        ("Task_Issue", "tangli", {"delivery": "window", "id_checked": True}),  # handed over at the station
    ):
        task = open_tasks(engine, case_no)[bpmn_id]
        assert task.point == "ximianqiao"
        engine.tasks.complete(task.id, user=user, data=data)
    done = engine.cases.show(case_no)
    assert done.summary.status == CaseStatus.APPROVED and not done.open_tasks
    assert done.summary.finished_at is not None and done.summary.accepted_at is not None
    # the street centre and the hall take it too
    assert [engine.cases.start(IB, IB_APPLICANT, actor=u).point for u in ("zhengyan", "lijing")] == [
        "jiangxijie",
        "district",
    ]


def test_enterprise_registration_ends_within_one_working_day_on_the_official_calendar(
    engine: Engine, clock: FixedClock
) -> None:
    """The seed: 新注册企业,资料齐全、符合法定形式,1个工作日就可办结. Accepted on the afternoon of Thursday
    2026-04-30, before the 劳动节 holiday (1-5 May 2026), the licence is handed over on the next working day."""

    def at(month: int, day: int, hour: int, minute: int = 0) -> None:
        clock.set(datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC))

    at(4, 30, 15)
    case_no = engine.cases.start("enterprise_registration", ER_APPLICANT, actor="lijing").case_no
    review = {"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合法定形式"}
    for (month, day, hour, minute), bpmn_id, user, data in (
        ((4, 30, 15, 10), "Task_Intake", "lijing", {"materials_received": ["M01", "M02", "M03", "M04", "M05"]}),
        ((4, 30, 15, 50), "Task_FormalReview", "sunli", review),
        ((4, 30, 16, 20), "Task_RegistrationDecision", "sunli", {"decision": "approve"}),
        ((4, 30, 16, 40), "Task_Seal", "sunli", {"seal_no": "510107-04"}),
        ((5, 6, 9, 30), "Task_IssueLicence", "wangfang", {"delivery": "window", "id_checked": True}),
    ):
        at(month, day, hour, minute)
        engine.tasks.complete(open_tasks(engine, case_no)[bpmn_id].id, user=user, data=data)
    s = engine.cases.show(case_no).summary
    assert s.status == CaseStatus.APPROVED
    assert s.accepted_at is not None and s.finished_at is not None and s.committed_due_at is not None
    # the promise on the official calendar: the next working day after the holiday, at closing
    assert s.committed_due_at == datetime(2026, 5, 6, 17, 30, tzinfo=CHINA_TZ)
    assert s.finished_at <= s.committed_due_at
    local = engine.calendar
    assert (
        local.working_days_between(s.accepted_at.astimezone(CHINA_TZ).date(), s.finished_at.astimezone(CHINA_TZ).date())
        == 1
    )
    assert engine.deadline_status(s.committed_due_at).level != "red"
