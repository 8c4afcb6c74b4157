"""What a matter's catalogue says about the approval patterns it calls (``processes/patterns/``).

``[joint_evaluation]`` (多评合一): the assessments one commission covers, each with the material its report is
uploaded as; the special procedure's own limit and the law that takes its time off the legal clock; the
intermediary's own limit. ``[joint_meeting]`` (重大项目会审): the material the minutes are uploaded as and
the default limit of a follow-up duty. Both are read at deploy (every problem named with its key) and by the
patterns' service operators while a case runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import Problem
from .catalogue import LIMIT_UNITS, Limit, Matter

__all__ = [
    "EVALUATION_SERVICES",
    "PATTERN_FIELDS",
    "PATTERN_OPERATORS",
    "Assessment",
    "EvaluationConfig",
    "MeetingConfig",
    "check_pattern_fields",
    "evaluation_config",
    "meeting_config",
]

PATTERN_FIELDS = ("joint_evaluation", "joint_meeting")
# The service operators the patterns' BPMN calls (engine/_services/patterns.py carries them out; the simulator
# passes through them).
PATTERN_OPERATORS = (
    "evaluation_start",
    "intermediary_select",
    "evaluation_reports",
    "evaluation_finish",
    "intermediary_rate",
    "meeting_convene",
    "meeting_record",
)

# The services intermediaries offer and 多评合一 assessments cover (domain notes: environment, soil and water,
# energy, safety, geology, seismic and heritage reviews).
EVALUATION_SERVICES = {
    "environment": "环境影响评价",
    "energy": "节能评估",
    "safety": "安全评价",
    "soil_water": "水土保持方案",
    "geology": "地质灾害危险性评估",
    "seismic": "地震安全性评价",
    "heritage": "文物影响评估",
    "traffic": "交通影响评价",
}


@dataclass(frozen=True)
class Assessment:
    code: str  # one of EVALUATION_SERVICES
    name: str
    report: str  # the material code its report is uploaded as


@dataclass(frozen=True)
class EvaluationConfig:
    assessments: tuple[Assessment, ...]
    limit: Limit  # the special procedure's own limit
    basis: str  # the law that takes its time off the legal clock
    intermediary_limit: Limit  # the intermediary's own limit for its reports

    @property
    def services(self) -> list[str]:
        return [a.code for a in self.assessments]


@dataclass(frozen=True)
class MeetingConfig:
    minutes: str  # the material code the minutes are uploaded as
    followup_limit: Limit  # a follow-up duty's limit when the meeting names none


def _limit(raw: Any, key: str, file: str, problems: list[Problem]) -> Limit:
    ok = isinstance(raw, dict) and isinstance(raw.get("value"), int | float) and not isinstance(raw["value"], bool)
    if not ok or raw["value"] <= 0 or raw.get("unit") not in LIMIT_UNITS:
        units = ", ".join(LIMIT_UNITS)
        problems.append(Problem(file, f"'{key}' must be {{ value = N > 0, unit = one of {units} }}", element=key))
        return Limit(1, "working_days")
    return Limit(float(raw["value"]), str(raw["unit"]))


def _evaluation(raw: Any, materials: set[str], file: str, problems: list[Problem]) -> EvaluationConfig | None:
    where = "joint_evaluation"
    if not isinstance(raw, dict):
        problems.append(Problem(file, f"'{where}' must be a table", element=where))
        return None
    unknown = set(raw) - {"assessments", "limit", "basis", "intermediary_limit"}
    if unknown:
        problems.append(Problem(file, f"'{where}': unknown key(s) {', '.join(sorted(unknown))}", element=where))
    items = raw.get("assessments")
    assessments: list[Assessment] = []
    if not isinstance(items, list) or not items:
        problems.append(Problem(file, f"'{where}.assessments' must list at least one assessment", element=where))
        items = []
    for i, item in enumerate(items):
        at = f"{where}.assessments[{i}]"
        code = item.get("code") if isinstance(item, dict) else None
        report = item.get("report") if isinstance(item, dict) else None
        if code not in EVALUATION_SERVICES:
            known = ", ".join(EVALUATION_SERVICES)
            problems.append(Problem(file, f"'{at}.code' {code!r} is not an assessment; known: {known}", element=at))
            continue
        if report not in materials:
            problems.append(
                Problem(file, f"'{at}.report' {report!r} is not a material code of this catalogue", element=at)
            )
            continue
        name = item.get("name") if isinstance(item.get("name"), str) else EVALUATION_SERVICES[code]
        assessments.append(Assessment(str(code), str(name), str(report)))
    if len({a.code for a in assessments}) != len(assessments):
        problems.append(Problem(file, f"'{where}.assessments' lists an assessment twice", element=where))
    basis = raw.get("basis")
    if not isinstance(basis, str) or not basis.strip():
        problems.append(
            Problem(file, f"'{where}.basis' must name the law that takes its time off the clock", element=where)
        )
        basis = ""
    limit = _limit(raw.get("limit"), f"{where}.limit", file, problems)
    intermediary = _limit(raw.get("intermediary_limit"), f"{where}.intermediary_limit", file, problems)
    return EvaluationConfig(tuple(assessments), limit, basis.strip(), intermediary)


def _meeting(raw: Any, materials: set[str], file: str, problems: list[Problem]) -> MeetingConfig | None:
    where = "joint_meeting"
    if not isinstance(raw, dict):
        problems.append(Problem(file, f"'{where}' must be a table", element=where))
        return None
    unknown = set(raw) - {"minutes", "followup_limit"}
    if unknown:
        problems.append(Problem(file, f"'{where}': unknown key(s) {', '.join(sorted(unknown))}", element=where))
    minutes = raw.get("minutes")
    if minutes not in materials:
        problems.append(
            Problem(file, f"'{where}.minutes' {minutes!r} is not a material code of this catalogue", element=where)
        )
    limit = _limit(raw.get("followup_limit"), f"{where}.followup_limit", file, problems)
    return MeetingConfig(str(minutes), limit)


def check_pattern_fields(raw: dict[str, Any], materials: set[str], file: str, problems: list[Problem]) -> None:
    """Deploy's check of the catalogue's pattern tables (problems are appended, one per key)."""
    if "joint_evaluation" in raw:
        _evaluation(raw["joint_evaluation"], materials, file, problems)
    if "joint_meeting" in raw:
        _meeting(raw["joint_meeting"], materials, file, problems)


def evaluation_config(matter: Matter) -> EvaluationConfig | None:
    """The matter's 多评合一 settings (checked at deploy), or None when it lists none."""
    if "joint_evaluation" not in matter.extra:
        return None
    problems: list[Problem] = []
    materials = {m.code for m in matter.materials}
    return _evaluation(matter.extra["joint_evaluation"], materials, matter.key, problems)


def meeting_config(matter: Matter) -> MeetingConfig:
    """The matter's 会审 settings; a matter without ``[joint_meeting]`` uploads no minutes material of its own
    and gives a duty 10 working days."""
    if "joint_meeting" not in matter.extra:
        return MeetingConfig("", Limit(10, "working_days"))
    problems: list[Problem] = []
    materials = {m.code for m in matter.materials}
    config = _meeting(matter.extra["joint_meeting"], materials, matter.key, problems)
    return config or MeetingConfig("", Limit(10, "working_days"))
