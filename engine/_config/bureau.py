"""The bureau's organisation: sections, supervising departments and staff, from ``bureau.toml``.

A BPMN lane resolves to a section by the section's Chinese name (what designers type in the modeller)
or by its code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from .._bpmn.script_guards import ScriptLimits
from .._errors import ConfigError, names_config_file
from .._time.deadline_levels import Thresholds
from .._time.workcalendar import DEFAULT_OFFICE_HOURS, OfficeHours
from .documents import DocumentsConfig, parse_documents
from .file_limits import FileLimits, file_limits
from .ratings import RatingSettings, rating_settings
from .service_points import HALL, ServicePoint, default_hall, parse_points

__all__ = [
    "DEPARTMENT_QUEUE",
    "SMS_GATEWAY",
    "Bureau",
    "Department",
    "NotificationSettings",
    "OutboxSettings",
    "Section",
    "SectionKind",
    "ServicePoint",
    "StaffMember",
    "department_queue",
    "load_bureau",
]


class SectionKind(StrEnum):
    INTAKE_WINDOW = "intake_window"
    APPROVAL_SECTION = "approval_section"
    INSPECTION_CENTRE = "inspection_centre"
    EVALUATION_CENTRE = "evaluation_centre"  # 多评合一中心: works a joint evaluation's commission
    ISSUING_WINDOW = "issuing_window"


# The sections whose work is done at the windows of the point that received the case; the others (approval
# sections, the inspection centre) stay at the district and serve every point.
WINDOW_KINDS = (SectionKind.INTAKE_WINDOW, SectionKind.ISSUING_WINDOW)

# supervisor: a member of a supervising department (its inbox 审管信息, acknowledgements, feedback), no section;
# auditor: works the 稽核 sample and its checklist; inspector (纪检): reads everything, changes nothing
ROLES = ("clerk", "chief", "admin", "supervisor", "auditor", "inspector")
# A task for a supervising department (the liaison's step of 现场踏勘) is queued under this pseudo-section:
# its supervisors work it, no section does.
DEPARTMENT_QUEUE = "dept:"


# The outbox's receiver code of the applicants' SMS (``[notifications] sms_endpoint``): no department may use it.
SMS_GATEWAY = "sms"


def department_queue(code: str) -> str:
    return f"{DEPARTMENT_QUEUE}{code}"


@dataclass(frozen=True)
class Section:
    code: str
    name: str
    kind: SectionKind
    name_en: str = ""
    seal_no: str = ""


@dataclass(frozen=True)
class Department:
    """A supervising department (审管信息共享). With an ``endpoint`` its system is pushed each result (signed
    with the secret in the environment variable ``secret_env``); without one, its supervisors read the
    results in their inbox in the worklist."""

    code: str
    name: str
    name_en: str = ""
    endpoint: str = ""
    secret_env: str = ""
    timeout_seconds: float | None = None  # None: [outbox] timeout_seconds
    # its own seal, applied by its supervisors as the second seal on results used outside the province (出省)
    seal_no: str = ""

    @property
    def seal_name(self) -> str:
        return f"{self.name}印章({self.seal_no})"

    @property
    def pushed(self) -> bool:
        return bool(self.endpoint)


@dataclass(frozen=True)
class OutboxSettings:
    """``[outbox]``: how dispatchers deliver, retry and give up, and the acknowledgement clock."""

    timeout_seconds: float = 10.0  # per push attempt
    max_attempts: int = 10  # then the message is dead (shown red, ``outbox retry`` sends it again)
    backoff_seconds: float = 30.0  # the first retry's wait; doubled each time, with jitter
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 120.0  # a claimed batch not reported back by then is claimed again
    batch_size: int = 20
    ack_working_days: int = 2  # a result not acknowledged within this many working days turns red


@dataclass(frozen=True)
class NotificationSettings:
    """``[notifications]``: the applicants' SMS (短信提醒). Without ``sms_endpoint`` only the hall's message box
    records what the applicant is told; with it, each message is also an outbox message to that HTTP gateway,
    delivered by the same dispatchers as the departments' results (signed with the secret in ``sms_secret_env``)."""

    sms_endpoint: str = ""
    sms_secret_env: str = ""
    sms_timeout_seconds: float | None = None  # None: [outbox] timeout_seconds
    sms_signature: str = ""  # the text in 【】 every SMS starts with; "": the bureau's name

    @property
    def gateway(self) -> Department | None:
        """The SMS gateway as the outbox's dispatchers see a receiver, or None (not configured)."""
        if not self.sms_endpoint:
            return None
        return Department(
            code=SMS_GATEWAY,
            name="短信网关",
            name_en="SMS gateway",
            endpoint=self.sms_endpoint,
            secret_env=self.sms_secret_env,
            timeout_seconds=self.sms_timeout_seconds,
        )


@dataclass(frozen=True)
class StaffMember:
    user: str
    name: str
    sections: tuple[str, ...]
    role: str = "clerk"
    department: str = ""  # a supervisor's department
    point: str = HALL  # the service point the member works at (its windows); back-office staff: the hall


@dataclass(frozen=True)
class Bureau:
    name: str
    case_prefix: str
    division_code: str
    sections: tuple[Section, ...]
    departments: tuple[Department, ...]
    staff: tuple[StaffMember, ...] = ()
    name_en: str = ""
    source: str = ""
    thresholds: Thresholds = field(default_factory=Thresholds)
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    scripts: ScriptLimits = field(default_factory=ScriptLimits)
    files: FileLimits = field(default_factory=FileLimits)
    documents: DocumentsConfig = field(default_factory=DocumentsConfig)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    ratings: RatingSettings = field(default_factory=RatingSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    points: tuple[ServicePoint, ...] = ()  # () : the hall alone (``default_hall``)
    _by_lane: dict[str, Section] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for s in self.sections:
            self._by_lane[s.name] = s
            self._by_lane[s.code] = s
        if not self.points:
            object.__setattr__(self, "points", (default_hall(self.name),))

    def point(self, code: str | None) -> ServicePoint | None:
        return next((p for p in self.points if p.code == code), None)

    @property
    def hall(self) -> ServicePoint:
        """The district hall (区政务服务中心): where back-office sections work and older cases were received."""
        found = self.point(HALL)
        assert found is not None  # parse_points and __post_init__ make sure of it
        return found

    def points_for(self, levels: tuple[str, ...] | list[str]) -> tuple[ServicePoint, ...]:
        """The points that handle a matter available at ``levels`` (its catalogue's service_levels)."""
        return tuple(p for p in self.points if p.level in levels)

    def window_sections(self) -> frozenset[str]:
        """Codes of the sections whose work is done at a service point's windows (接件, 受理, 出证)."""
        return frozenset(s.code for s in self.sections if s.kind in WINDOW_KINDS)

    def section_for_lane(self, lane: str | None) -> Section | None:
        return None if lane is None else self._by_lane.get(lane.strip())

    def section(self, code: str) -> Section | None:
        return next((s for s in self.sections if s.code == code), None)

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def receiver(self, code: str) -> Department | None:
        """Whom the outbox delivers messages with this code to: a supervising department, or the SMS gateway."""
        if code == SMS_GATEWAY:
            return self.notifications.gateway
        return self.department(code)

    @property
    def sms_signature(self) -> str:
        """``【武侯区行政审批局】``: ``[notifications] sms_signature``, else the bureau's name."""
        name = self.notifications.sms_signature or self.name
        return f"【{name}】"

    def known_sections(self) -> str:
        return ", ".join(f"{s.name} ({s.code})" for s in self.sections)


def _require(table: dict[str, Any], key: str, where: str, kind: type = str) -> Any:
    value = table.get(key)
    if value is None or (kind is str and not str(value).strip()):
        raise ConfigError(f"{where}: missing required field '{key}'")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: field '{key}' must be {kind.__name__}, got {type(value).__name__}")
    return value


def _office_hours(raw: Any, where: str) -> OfficeHours:
    """``office_hours = ["09:00-12:00", "13:30-17:30"]`` (China time); absent: those defaults."""
    if raw is None:
        return DEFAULT_OFFICE_HOURS
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f'{where}: office_hours must be a list like ["09:00-12:00", "13:30-17:30"]')
    periods = []
    for item in raw:
        try:
            start, end = (time.fromisoformat(part.strip()) for part in str(item).split("-"))
        except ValueError:
            raise ConfigError(f"{where}: office_hours entry {item!r} is not HH:MM-HH:MM") from None
        periods.append((start, end))
    return OfficeHours(tuple(periods))


def _script_limits(raw: Any, where: str) -> ScriptLimits:
    """``[scripts]``: enabled, time_limit_seconds, memory_limit_mb, max_iterations (each optional)."""
    if raw is None:
        return ScriptLimits()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {"enabled", "time_limit_seconds", "memory_limit_mb", "max_iterations"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled must be true or false, got {enabled!r}")
    seconds = raw.get("time_limit_seconds", 1.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 3600:
        raise ConfigError(f"{where}: time_limit_seconds must be a number of seconds above 0, got {seconds!r}")
    numbers = {}
    for key, default in (("memory_limit_mb", 64), ("max_iterations", 1_000_000)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: {key} must be a whole number ≥ 1, got {value!r}")
        numbers[key] = value
    return ScriptLimits(
        enabled=enabled,
        time_limit_seconds=float(seconds),
        memory_limit_mb=numbers["memory_limit_mb"],
        max_iterations=numbers["max_iterations"],
    )


def _department(raw: dict[str, Any], where: str) -> Department:
    """One ``[[departments]]`` entry; a push endpoint must come with the name of its secret's variable."""
    code = _require(raw, "code", where)
    endpoint = str(raw.get("endpoint", "")).strip()
    secret_env = str(raw.get("secret_env", "")).strip()
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{where} ({code}): endpoint must be an http:// or https:// URL, got {endpoint!r}")
    if endpoint and not secret_env:
        raise ConfigError(
            f"{where} ({code}): endpoint without secret_env (the environment variable holding its HMAC secret)"
        )
    timeout = raw.get("timeout_seconds")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise ConfigError(f"{where} ({code}): timeout_seconds must be a number of seconds above 0, got {timeout!r}")
    return Department(
        code=code,
        name=_require(raw, "name", where),
        name_en=str(raw.get("name_en", "")),
        endpoint=endpoint,
        secret_env=secret_env,
        timeout_seconds=float(timeout) if timeout is not None else None,
        seal_no=str(raw.get("seal_no", "")).strip(),
    )


def _outbox_settings(raw: Any, where: str) -> OutboxSettings:
    """``[outbox]``: every key optional (the defaults of ``OutboxSettings``)."""
    if raw is None:
        return OutboxSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    defaults = OutboxSettings()
    known = set(defaults.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key in known:
        default = getattr(defaults, key)
        value = raw.get(key, default)
        whole = isinstance(default, int)
        allowed = int if whole else int | float
        if (
            isinstance(value, bool)
            or not isinstance(value, allowed)
            or value < (0 if key == "ack_working_days" else 1e-9)
        ):
            kind = "a whole number" if whole else "a number of seconds"
            raise ConfigError(f"{where}: {key} must be {kind} above 0, got {value!r}")
        values[key] = value if whole else float(value)
    return OutboxSettings(**values)


def _notification_settings(raw: Any, where: str) -> NotificationSettings:
    """``[notifications]``: sms_endpoint (with sms_secret_env), sms_timeout_seconds, sms_signature; all optional."""
    if raw is None:
        return NotificationSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    known = set(NotificationSettings.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    endpoint = str(raw.get("sms_endpoint", "")).strip()
    secret_env = str(raw.get("sms_secret_env", "")).strip()
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: sms_endpoint must be an http:// or https:// URL, got {endpoint!r}")
    if endpoint and not secret_env:
        raise ConfigError(
            f"{where}: sms_endpoint without sms_secret_env (the environment variable holding its HMAC secret)"
        )
    timeout = raw.get("sms_timeout_seconds")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise ConfigError(f"{where}: sms_timeout_seconds must be a number of seconds above 0, got {timeout!r}")
    signature = str(raw.get("sms_signature", "")).strip().strip("【】")
    if len(signature) > 20:
        raise ConfigError(f"{where}: sms_signature must be at most 20 characters, got {len(signature)}")
    return NotificationSettings(
        sms_endpoint=endpoint,
        sms_secret_env=secret_env,
        sms_timeout_seconds=float(timeout) if timeout is not None else None,
        sms_signature=signature,
    )


@names_config_file
def load_bureau(path: Path) -> Bureau:
    """Read and validate ``bureau.toml``; every problem names the file and the entry."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: bureau configuration not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    head = raw.get("bureau", {})
    name = _require(head, "name", f"{path} [bureau]")
    sections: list[Section] = []
    for i, s in enumerate(raw.get("sections", []), 1):
        where = f"{path} [[sections]] #{i}"
        kind = _require(s, "kind", where)
        if kind not in SectionKind.__members__.values():
            raise ConfigError(f"{where}: kind '{kind}' is not one of {', '.join(SectionKind)}")
        sections.append(
            Section(
                code=_require(s, "code", where),
                name=_require(s, "name", where),
                kind=SectionKind(kind),
                name_en=str(s.get("name_en", "")),
                seal_no=str(s.get("seal_no", "")),
            )
        )
    if not sections:
        raise ConfigError(f"{path}: no [[sections]] defined")
    codes = [s.code for s in sections]
    names = [s.name for s in sections]
    for seen in (codes, names):
        dup = {x for x in seen if seen.count(x) > 1}
        if dup:
            raise ConfigError(f"{path}: duplicate section code or name: {', '.join(sorted(dup))}")
    departments = [_department(d, f"{path} [[departments]] #{i}") for i, d in enumerate(raw.get("departments", []), 1)]
    department_codes = [d.code for d in departments]
    if SMS_GATEWAY in department_codes:
        raise ConfigError(f"{path} [[departments]]: code {SMS_GATEWAY!r} is the SMS gateway's; choose another code")
    points = parse_points(raw.get("points"), str(path), name)
    point_codes = [p.code for p in points]
    staff: list[StaffMember] = []
    for i, m in enumerate(raw.get("staff", []), 1):
        where = f"{path} [[staff]] #{i}"
        member_sections = tuple(_require(m, "sections", where, list))
        unknown = [c for c in member_sections if c not in codes]
        if unknown:
            raise ConfigError(f"{where}: unknown section(s) {', '.join(unknown)}; known: {', '.join(codes)}")
        role = str(m.get("role", "clerk"))
        if role not in ROLES:
            raise ConfigError(f"{where}: role '{role}' is not one of {', '.join(ROLES)}")
        department = str(m.get("department", ""))
        if role == "supervisor" and department not in department_codes:
            raise ConfigError(
                f"{where}: a supervisor needs department = one of {', '.join(department_codes) or '(none defined)'}"
            )
        point = m.get("point", HALL)
        if point not in point_codes:
            raise ConfigError(
                f"{where} ({m.get('user', '?')}): point = {point!r} is not a [[points]] code; "
                f"known: {', '.join(point_codes)}"
            )
        staff.append(
            StaffMember(
                point=point,
                user=_require(m, "user", where),
                name=_require(m, "name", where),
                sections=member_sections,
                role=role,
                department=department if role == "supervisor" else "",
            )
        )
    clock = raw.get("clock", {})
    yellow = clock.get("yellow_working_days", 1)
    if not isinstance(yellow, int) or isinstance(yellow, bool) or yellow < 0:
        raise ConfigError(f"{path} [clock]: yellow_working_days must be a whole number ≥ 0, got {yellow!r}")
    return Bureau(
        thresholds=Thresholds(yellow_working_days=yellow),
        office_hours=_office_hours(clock.get("office_hours"), f"{path} [clock]"),
        scripts=_script_limits(raw.get("scripts"), f"{path} [scripts]"),
        files=file_limits(raw.get("files"), f"{path} [files]"),
        documents=parse_documents(raw.get("documents"), f"{path} [documents]"),
        outbox=_outbox_settings(raw.get("outbox"), f"{path} [outbox]"),
        ratings=rating_settings(raw.get("ratings"), f"{path} [ratings]"),
        notifications=_notification_settings(raw.get("notifications"), f"{path} [notifications]"),
        name=name,
        name_en=str(head.get("name_en", "")),
        case_prefix=str(head.get("case_prefix", "OW")),
        division_code=str(head.get("division_code", "")),
        sections=tuple(sections),
        departments=tuple(departments),
        staff=tuple(staff),
        points=points,
        source=str(path),
    )
