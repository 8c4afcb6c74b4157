"""Simulation parameters: a TOML (or JSON) file plus ``sim*`` extension properties in the BPMN.

    [defaults]
    duration = "fixed(1) working_hours"     # user tasks with no duration of their own (this is the built-in)

    [staff]                                 # clerks per lane: lane name or section code; --staff wins
    window = 2

    [start.data]                            # process data at case start, merged over the defaults
    applicant = { registered_capital = 500 }   # (dicts one level deep: the application form's defaults)

    [tasks.Task_Intake]                     # a user task, by BPMN id
    duration = "triangular(10, 20, 40) working_minutes"
    delay = "fixed(0) working_days"         # before the task reaches the lane's in-tray (e.g. the
                                            # applicant bringing 补正 materials): not clerk time
    [[tasks.Task_Intake.outcomes]]          # what the clerk answers, merged over the form's defaults
    probability = 0.85
    data = { materials_received = ["M01", "M02", "M03", "M04", "M06"] }
    [[tasks.Task_Intake.outcomes]]
    probability = 0.15                      # 补正: a required material is missing
    data = { materials_received = ["M01", "M02", "M04", "M06"] }

    [tasks.Task_LeadDecision]
    outcomes = [
      { when = "not conditions_met", data = { decision = "refuse", decision_reasons = "不符合条件" } },
      { probability = 0.97, data = { decision = "approve" } },
      { probability = 0.03, data = { decision = "refuse", decision_reasons = "材料不实" } },
    ]
    pause = { probability = 0.1, duration = "uniform(3, 10) working_days", kind = "expert_review" }

    [handoff]                               # in-tray time when work passes from one lane to another
    default = "uniform(0.5, 1) working_days"
    "统一受理窗口 -> 商务审批科" = "fixed(0.5) working_days"

Outcomes: one with ``when`` (a Python condition over the task's data, as in a gateway) applies whenever
it holds, first match first; otherwise one of the outcomes with a ``probability`` is drawn (they must add
up to 1). A task without outcomes answers its form's defaults. ``pause`` is a special procedure (特别程序,
行政许可法 Art. 45: hearing, testing, expert review …) after the clerk's work: the clerk is free, the
case waits, and the legal clock stops. The same keys may be set in the BPMN on the task:
``simDuration``, ``simDelay`` (duration strings), ``simOutcomes`` (a JSON list) and ``simPause`` (a JSON
object); the parameters file wins. Every mistake is one error naming the file and key.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .._bpmn.scripting import ScriptRejected, check_expression
from .._config.forms import FORMAT_CHECKER
from .._errors import ConfigError, names_config_file
from .._time.case_clock import PAUSE_KINDS
from .distributions import Duration, parse_duration
from .model import SimModel, form_defaults

__all__ = ["DEFAULT_DURATION", "Outcome", "Pause", "SimParams", "TaskParams", "load_params", "parse_params"]

DEFAULT_DURATION = "fixed(1) working_hours"
_TOP = ("defaults", "staff", "start", "tasks", "handoff", "inspection", "evaluation", "meeting")
# [inspection] of a matter calling the 现场踏勘 pattern (processes/patterns/inspection.bpmn): its tasks' ids there.
_RECORD, _RECTIFICATION = "Task_InspectionRecord", "Task_Rectification"
# [evaluation] and [meeting] of a matter calling 多评合一 (joint_evaluation.bpmn) and 会审 (joint_meeting.bpmn).
_REPORTS, _REVIEW = "Task_EvaluationReports", "Task_ExpertReview"
_EVALUATION_START, _EVALUATION_FINISH = "Service_EvaluationStart", "Service_EvaluationFinish"
_MEETING_RECORD = "Task_MeetingRecord"
_TASK_KEYS = ("duration", "delay", "outcomes", "pause", "visits")
_PROPS = {
    "simDuration": "duration",
    "simDelay": "delay",
    "simOutcomes": "outcomes",
    "simPause": "pause",
    "simVisits": "visits",
}
# Fields through which an applicant hands in materials (the intake and 补正 forms): each item is one material.
HANDED_FIELDS = ("materials_received", "supplemented_materials")


@dataclass(frozen=True)
class Outcome:
    data: dict[str, Any]  # the given data merged over the form's defaults
    probability: float | None = None
    when: str | None = None


@dataclass(frozen=True)
class Pause:
    probability: float
    duration: Duration
    kind: str
    visits: int = 0  # times the applicant comes in during it (e.g. bringing a 补正 paper)


@dataclass(frozen=True)
class TaskParams:
    duration: Duration
    outcomes: tuple[Outcome, ...]
    delay: Duration | None = None
    pause: Pause | None = None
    rules: tuple[int, ...] = ()  # indices of outcomes with `when`, in order
    draws: tuple[tuple[float, int], ...] = ()  # (cumulative probability, outcome index)
    visits: int = 0  # times the applicant comes in for this step (declared: the model cannot tell)
    handed: tuple[int, ...] = ()  # per outcome: materials the applicant hands in (HANDED_FIELDS)

    def draw(self, u: float) -> int:
        for cumulative, index in self.draws:
            if u < cumulative:
                return index
        return self.draws[-1][1]


@dataclass(frozen=True)
class SimParams:
    tasks: dict[str, TaskParams]
    start_data: dict[str, Any]
    handoff: dict[tuple[str, str], Duration] = field(default_factory=dict)
    handoff_default: Duration | None = None
    staff: dict[str, int] = field(default_factory=dict)
    source: str = ""  # the parameters file, "" when there is none
    assumptions: tuple[str, ...] = ()
    fingerprint: str = ""
    # Legal-clock pauses that span steps: (node that starts it, node that ends it, pause kind)
    clock_spans: tuple[tuple[str, str, str], ...] = ()

    def handoff_between(self, source: str | None, target: str) -> Duration | None:
        if source is None or source == target:
            return None
        return self.handoff.get((source, target), self.handoff_default)


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
    return dict(value)


def _known(table: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in keys:
            raise ConfigError(f"{where}: unknown key '{key}'; known: {', '.join(keys)}")


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{where}: a probability must be a number from 0 to 1, got {value!r}")
    return float(value)


def _check_data(raw: Any, form: dict[str, Any] | None, where: str) -> dict[str, Any]:
    data = _table(raw, where)
    props = (form or {}).get("properties", {})
    for key, value in data.items():
        if form and key not in props:
            known = ", ".join(props) or "none"
            raise ConfigError(f"{where}: field '{key}' is not in the task's form; fields: {known}")
        if key in props:
            error = next(iter(Draft202012Validator(props[key], format_checker=FORMAT_CHECKER).iter_errors(value)), None)
            if error is not None:
                raise ConfigError(f"{where}.{key}: {error.message}")
    return data


def _outcomes(raw: Any, form: dict[str, Any] | None, where: str) -> tuple[tuple[Outcome, ...], tuple[int, ...], Any]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: expected a non-empty list of {{ probability, data }} or {{ when, data }}")
    defaults = form_defaults(form)
    outcomes: list[Outcome] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        item = _table(item, at)
        _known(item, ("probability", "when", "data"), at)
        given = _check_data(item.get("data", {}), form, f"{at}.data")
        when = item.get("when")
        if when is not None:
            if not isinstance(when, str) or not when.strip():
                raise ConfigError(f"{at}.when: expected a Python condition over the task data, got {when!r}")
            if "probability" in item:
                raise ConfigError(f"{at}: an outcome with 'when' applies whenever it holds; drop its probability")
            try:
                check_expression(when)
            except ScriptRejected as err:
                raise ConfigError(f"{at}.when: {err}") from None
        p = _probability(item["probability"], f"{at}.probability") if "probability" in item else None
        outcomes.append(Outcome({**copy.deepcopy(defaults), **given}, p, when))
    rules = tuple(i for i, o in enumerate(outcomes) if o.when is not None)
    drawn = [i for i, o in enumerate(outcomes) if o.when is None]
    if len(drawn) == 1 and outcomes[drawn[0]].probability is None:
        outcomes[drawn[0]] = Outcome(outcomes[drawn[0]].data, 1.0)
    missing = [i for i in drawn if outcomes[i].probability is None]
    if missing:
        raise ConfigError(f"{where}[{missing[0]}]: probability is missing (needed when several outcomes are drawn)")
    total = sum(outcomes[i].probability or 0.0 for i in drawn)
    if drawn and abs(total - 1) > 1e-9:
        raise ConfigError(f"{where}: the probabilities add up to {total:g}, not 1")
    return tuple(outcomes), rules, drawn


def _pause(raw: Any, where: str, day_minutes: float) -> Pause:
    table = _table(raw, where)
    _known(table, ("probability", "duration", "kind", "visits"), where)
    if "probability" not in table or "duration" not in table:
        raise ConfigError(f"{where}: a pause needs probability and duration")
    kind = str(table.get("kind", "other"))
    if kind not in PAUSE_KINDS:
        raise ConfigError(f"{where}.kind: unknown special procedure '{kind}'; known: {', '.join(PAUSE_KINDS)}")
    return Pause(
        _probability(table["probability"], f"{where}.probability"),
        parse_duration(table["duration"], f"{where}.duration", day_minutes=day_minutes),
        kind,
        _visits(table.get("visits", 0), f"{where}.visits"),
    )


def _visits(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # a BPMN property is text
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: the applicant's visits must be a whole number ≥ 0, got {value!r}")
    return value


def _handed(data: dict[str, Any]) -> int:
    return sum(len(v) for f in HANDED_FIELDS if isinstance(v := data.get(f), list))


def _inspection(raw: Any, model: SimModel, given: dict[str, Any], where: str) -> dict[str, Any]:
    """``[inspection]``: the site visit's ``duration`` (the record's work), ``rectify`` (the share of inspections
    ending in 限期整改, each round drawn again) and ``rectification`` (the applicant's time to rectify). That
    time stops the legal clock (a pause of kind ``rectification``) only where the matter's catalogue names the
    rule (``special_procedures``); otherwise the case waits inside the limit, as the engine counts it."""
    table = _table(raw, where)
    _known(table, ("duration", "rectify", "rectification"), where)
    if _RECORD not in model.user_tasks or _RECTIFICATION not in model.user_tasks:
        raise ConfigError(f"{where}: {model.key} calls no 现场踏勘 pattern (site_inspection)")
    for task_id in (_RECORD, _RECTIFICATION):
        if task_id in given:
            raise ConfigError(f"{where}: give {task_id} either here or under [tasks], not both")
    record: dict[str, Any] = {}
    if "duration" in table:
        record["duration"] = table["duration"]
    rectify = _probability(table.get("rectify", 0), f"{where}.rectify")
    passed = {"probability": 1 - rectify, "data": {"inspection_result": "passed"}}
    again = {"probability": rectify, "data": {"inspection_result": "rectify", "rectification_items": "限期整改"}}
    record["outcomes"] = [passed, again] if rectify > 0 else [{**passed, "probability": 1}]
    out: dict[str, Any] = {_RECORD: record}
    if "rectification" in table:
        waited = table["rectification"]
        if model.matter.pause_basis("rectification"):
            out[_RECTIFICATION] = {"pause": {"probability": 1, "duration": waited, "kind": "rectification"}}
        else:
            out[_RECTIFICATION] = {"delay": waited}
    return out


def _evaluation(raw: Any, model: SimModel, given: dict[str, Any], where: str) -> tuple[dict[str, Any], bool]:
    """``[evaluation]``: ``reports`` (the intermediary's time until the reports are in: a wait before 上传评估报告),
    ``review`` (the wait for the expert review meeting), ``duration`` (the review's work), ``revise`` (the share
    of reviews ending 修改后再审, each round drawn again) and ``pause`` (true, the default: the whole evaluation is
    off the legal clock, as the engine stops it from the commission to the review's end; false: it counts)."""
    table = _table(raw, where)
    _known(table, ("reports", "review", "duration", "revise", "pause"), where)
    if _REPORTS not in model.user_tasks or _REVIEW not in model.user_tasks:
        raise ConfigError(f"{where}: {model.key} calls no 多评合一 pattern (joint_evaluation)")
    for task_id in (_REPORTS, _REVIEW):
        if task_id in given:
            raise ConfigError(f"{where}: give {task_id} either here or under [tasks], not both")
    pause = table.get("pause", True)
    if not isinstance(pause, bool):
        raise ConfigError(f"{where}.pause: must be true or false, got {pause!r}")
    reports: dict[str, Any] = {"delay": table["reports"]} if "reports" in table else {}
    review: dict[str, Any] = {"delay": table["review"]} if "review" in table else {}
    if "duration" in table:
        review["duration"] = table["duration"]
    revise = _probability(table.get("revise", 0), f"{where}.revise")
    passed = {"probability": 1 - revise, "data": {"evaluation_opinion": "pass"}}
    again = {"probability": revise, "data": {"evaluation_opinion": "revise"}}
    review["outcomes"] = [passed, again] if revise > 0 else [{**passed, "probability": 1}]
    return {_REPORTS: reports, _REVIEW: review}, pause


def _meeting(raw: Any, model: SimModel, given: dict[str, Any], where: str) -> dict[str, Any]:
    """``[meeting]``: ``wait`` (from the convening to the meeting: a wait before its record) and ``duration``
    (the meeting and its minutes, the lead section's work)."""
    table = _table(raw, where)
    _known(table, ("wait", "duration"), where)
    if _MEETING_RECORD not in model.user_tasks:
        raise ConfigError(f"{where}: {model.key} calls no 会审 pattern (joint_meeting)")
    if _MEETING_RECORD in given:
        raise ConfigError(f"{where}: give {_MEETING_RECORD} either here or under [tasks], not both")
    record: dict[str, Any] = {"delay": table["wait"]} if "wait" in table else {}
    if "duration" in table:
        record["duration"] = table["duration"]
    return {_MEETING_RECORD: record}


def _from_properties(model: SimModel, task_id: str) -> dict[str, Any]:
    """``sim*`` properties of a task, as parameter-file keys (JSON values decoded)."""
    out: dict[str, Any] = {}
    for prop, key in _PROPS.items():
        value = model.user_tasks[task_id].properties.get(prop)
        if value is None:
            continue
        if key in ("outcomes", "pause"):
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{model.source}: {task_id}: property {prop}: invalid JSON: {err.msg}") from None
        else:
            out[key] = value
    return out


def parse_params(
    raw: dict[str, Any] | None, model: SimModel, *, source: str = "", day_minutes: float = 420.0
) -> SimParams:
    """Validate parameters (already decoded) against ``model``; ``source`` names them in errors."""
    raw = dict(raw or {})
    src = source or "parameters"
    _known(raw, _TOP, src)
    defaults = _table(raw.get("defaults", {}), f"{src}: [defaults]")
    _known(defaults, ("duration",), f"{src}: [defaults]")
    default_text = defaults.get("duration", DEFAULT_DURATION)
    default_duration = parse_duration(default_text, f"{src}: defaults.duration", day_minutes=day_minutes)

    staff: dict[str, int] = {}
    for name, count in _table(raw.get("staff", {}), f"{src}: [staff]").items():
        lane = model.resolve_lane(str(name), f"{src}: staff")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{src}: staff.{name}: the number of clerks must be a whole number ≥ 1, got {count!r}")
        staff[lane] = count

    start = _table(raw.get("start", {}), f"{src}: [start]")
    _known(start, ("data",), f"{src}: [start]")
    start_data: dict[str, Any] = {
        "applicant": form_defaults(model.application_form),
        "matter": model.matter.process_data(),
        "case_no": "SIM",
    }
    for key, value in _table(start.get("data", {}), f"{src}: start.data").items():
        if isinstance(value, dict) and isinstance(start_data.get(key), dict):
            start_data[key] = {**start_data[key], **value}
        else:
            start_data[key] = value

    given_tasks = _table(raw.get("tasks", {}), f"{src}: [tasks]")
    if "inspection" in raw:
        given_tasks = {**given_tasks, **_inspection(raw["inspection"], model, given_tasks, f"{src}: inspection")}
    # The engine stops the legal clock for a whole 多评合一 (专家评审, Art. 45): so does the simulator, unless told not.
    evaluation_pause = _EVALUATION_START in model.nodes and _EVALUATION_FINISH in model.nodes
    if "evaluation" in raw:
        found, evaluation_pause = _evaluation(raw["evaluation"], model, given_tasks, f"{src}: evaluation")
        given_tasks = {**given_tasks, **found}
    if "meeting" in raw:
        given_tasks = {**given_tasks, **_meeting(raw["meeting"], model, given_tasks, f"{src}: meeting")}
    for task_id in given_tasks:
        if task_id not in model.user_tasks:
            kind = model.nodes[task_id].tag if task_id in model.nodes else None
            why = f"'{task_id}' is a {kind}, not a user task" if kind else f"unknown user task '{task_id}'"
            raise ConfigError(f"{src}: tasks.{task_id}: {why}; user tasks of {model.key}: {model.known_tasks()}")
    tasks: dict[str, TaskParams] = {}
    used_default_duration: list[str] = []
    used_form_defaults: list[str] = []
    for task_id, task in model.user_tasks.items():
        from_bpmn = _from_properties(model, task_id)
        given = _table(given_tasks.get(task_id, {}), f"{src}: tasks.{task_id}")
        _known(given, _TASK_KEYS, f"{src}: tasks.{task_id}")

        def where(key: str, tid: str = task_id, given: dict[str, Any] = given) -> str:
            return f"{src}: tasks.{tid}.{key}" if key in given else f"{model.source}: {tid}: property sim{key.title()}"

        merged = {**from_bpmn, **given}
        if "duration" in merged:
            duration = parse_duration(merged["duration"], where("duration"), day_minutes=day_minutes)
        else:
            duration = default_duration
            used_default_duration.append(task_id)
        delay = parse_duration(merged["delay"], where("delay"), day_minutes=day_minutes) if "delay" in merged else None
        pause = _pause(merged["pause"], where("pause"), day_minutes) if "pause" in merged else None
        if "outcomes" in merged:
            outcomes, rules, drawn = _outcomes(merged["outcomes"], task.form, where("outcomes"))
        else:
            outcomes, rules, drawn = (Outcome(form_defaults(task.form), 1.0),), (), [0]
            used_form_defaults.append(task_id)
        cumulative, draws = 0.0, []
        for i in drawn:
            cumulative += outcomes[i].probability or 0.0
            draws.append((cumulative, i))
        visits = _visits(merged["visits"], where("visits")) if "visits" in merged else 0
        handed = tuple(_handed(o.data) for o in outcomes)
        tasks[task_id] = TaskParams(duration, outcomes, delay, pause, rules, tuple(draws), visits, handed)

    handoff: dict[tuple[str, str], Duration] = {}
    handoff_default = None
    for key, value in _table(raw.get("handoff", {}), f"{src}: [handoff]").items():
        at = f"{src}: handoff.{key}"
        if key == "default":
            handoff_default = parse_duration(value, at, day_minutes=day_minutes)
            continue
        parts = [p.strip() for p in str(key).replace("→", "->").split("->")]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"{at}: write a hand-off as \"FROM_LANE -> TO_LANE\" (or 'default')")
        pair = (model.resolve_lane(parts[0], at), model.resolve_lane(parts[1], at))
        if pair[0] == pair[1]:
            raise ConfigError(f"{at}: a hand-off is between two different lanes")
        handoff[pair] = parse_duration(value, at, day_minutes=day_minutes)

    assumptions = []
    if used_default_duration:
        assumptions.append(f"duration {default_duration} (default) for {', '.join(used_default_duration)}")
    if used_form_defaults:
        assumptions.append(f"form defaults answer {', '.join(used_form_defaults)}")
    fingerprint = hashlib.sha256(
        json.dumps(
            [start_data, {t: [[o.data, o.when] for o in p.outcomes] for t, p in tasks.items()}],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        ).encode()
    ).hexdigest()
    spans = ((_EVALUATION_START, _EVALUATION_FINISH, "expert_review"),) if evaluation_pause else ()
    return SimParams(
        tasks,
        start_data,
        handoff,
        handoff_default,
        staff,
        source,
        tuple(assumptions),
        fingerprint=fingerprint,
        clock_spans=spans,
    )


@names_config_file
def load_params(path: Path | None, model: SimModel, *, day_minutes: float = 420.0) -> SimParams:
    """Read a ``.toml`` or ``.json`` parameters file (``None``: BPMN properties and defaults only)."""
    if path is None:
        return parse_params({}, model, day_minutes=day_minutes)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read parameters: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        raw = json.loads(text) if str(path).lower().endswith(".json") else tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a table of parameters")
    return parse_params(raw, model, source=str(path), day_minutes=day_minutes)
