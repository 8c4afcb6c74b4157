"""The matter catalogue: ``processes/<matter>.toml`` beside each BPMN (fields of GB/T 39046-2020)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._errors import Problem
from .bureau import Bureau
from .service_points import LEVEL_NAMES

__all__ = ["IMPORT_FIELDS", "Limit", "Material", "Matter", "parse_catalogue"]

LIMIT_UNITS = ("working_days", "natural_days", "working_hours")
GENERIC_FORM = "generic_opinion.json"  # the form of a user task that names none
# The application form's fields that name the applicant (the worklist's search, the case list), first found
# wins; a catalogue may name its own with ``applicant_name_fields``.
DEFAULT_APPLICANT_NAME_FIELDS = ("enterprise_name", "applicant_name", "name", "company_name")
# Keys the service guide (办事指南) shows; any other key not modelled here is a typo and refused.
GUIDE_FIELDS = (
    "legal_basis",
    "implementing_body",
    "acceptance_conditions",
    "fee",
    "location",
    "hours",
    "phone",
    "handling_forms",
    "legal_limit_parts",
    "historical_note",
    # English beside the Chinese, shown on English pages (a part of ``legal_limit_parts`` has ``part_en`` and
    # ``basis_en``)
    "legal_limit_basis_en",
    "historical_note_en",
    "result_name_en",
)
# Kept in ``extra``: 四眼原则 (审核 ≠ 审批): whether one person may not both review and approve a case, and the
# BPMN ids of the review and the approval steps it applies to.
FOUR_EYES_FIELDS = ("four_eyes", "review_steps", "approval_steps")
# Kept in ``extra`` and read by the reusable patterns (processes/patterns/): ``[inspection]`` (现场踏勘: whether
# the supervising department joins, the items checked, the days the applicant has to rectify) and ``[waiver]``
# (容缺受理: the working days within which a material waived at acceptance is due, and the local rule).
INSPECTION_FIELDS = ("inspection", "waiver")
# Kept in ``extra`` and read by the legal clock: special procedures this matter's own law excludes, and the
# applicant's 补正 deadline.
CLOCK_FIELDS = ("special_procedures", "supplement_limit")
# Kept in ``extra``: what ``onewindow catalogue import`` records from the bureau's 事项清单 (and ``catalogue
# stats`` counts): the department the matter came from, whether it was transferred (划转) to the bureau,
# the service levels it is handled at, the process template, and the article the legal limit comes from.
IMPORT_FIELDS = ("source_department", "transferred", "service_levels", "template", "legal_limit_basis")
HANDLING_TYPES = {"immediate": "即办件", "committed": "承诺件", "other": "其他"}
MATTER_TYPES = {f"{i:02d}" for i in range(1, 11)} | {"20"}
REQUIRED_FIELDS = (
    "code",
    "name",
    "matter_type",
    "handling_type",
    "process_id",
    "legal_limit",
    "committed_limit",
    "lead_section",
    "materials",
    "supervising_department",
    "result_name",
)


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str

    def __str__(self) -> str:
        value = int(self.value) if float(self.value).is_integer() else self.value
        return f"{value} {self.unit}"


@dataclass(frozen=True)
class Material:
    code: str
    name: str
    issuer: str
    originals: int
    copies: int
    required: bool
    # 容缺受理: True, may be missing at acceptance against the applicant's written commitment; False, never
    # waivable (a core material); None, the catalogue says nothing (not waivable either).
    waivable: bool | None = None
    name_en: str = ""  # the English name shown on English pages


@dataclass(frozen=True)
class Matter:
    key: str
    code: str
    name: str
    matter_type: str
    handling_type: str
    process_id: str
    legal_limit: Limit
    committed_limit: Limit
    lead_section: str
    co_sections: tuple[str, ...]
    materials: tuple[Material, ...]
    supervising_department: str  # the first of ``supervising_departments``
    result_name: str
    application_form: str | None = None
    name_en: str = ""
    implementation_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # lane id or lane name in the BPMN -> section code (``[lanes]``), so diagrams keep their own lane names
    lanes: dict[str, str] = field(default_factory=dict)
    applicant_name_fields: tuple[str, ...] = DEFAULT_APPLICANT_NAME_FIELDS
    # every department the result is shared with (审管信息共享): ``supervising_department = "a"`` or ``["a", "b"]``
    supervising_departments: tuple[str, ...] = ()
    # the bureau's own follow-up work (processes/internal/): not applied for, so not in the guide or at the window
    internal: bool = False
    # False for ``legal_limit = "none"``: the law sets no single limit for the whole matter (a joint handling of
    # parts, each under its own law, listed in ``legal_limit_parts``); ``legal_limit`` then holds the committed
    # limit, the one the clock enforces, and pages say 无统一法定时限 instead of inventing a legal limit.
    legal_limit_statutory: bool = True

    @property
    def supplement_limit(self) -> Limit | None:
        """How long the applicant has to hand in the 补正 (``supplement_limit``); past it the case is ended."""
        raw = self.extra.get("supplement_limit")
        return Limit(float(raw["value"]), str(raw["unit"])) if isinstance(raw, dict) else None

    @property
    def legal_limit_basis(self) -> str:
        """The article the legal limit comes from (``legal_limit_basis``), or ''."""
        return str(self.extra.get("legal_limit_basis") or "")

    def english(self, key: str) -> str:
        """The English of a guide field (``<key>_en``: legal_limit_basis, historical_note, result_name), or ''."""
        value = self.extra.get(f"{key}_en")
        return value.strip() if isinstance(value, str) else ""

    @property
    def legal_limit_parts(self) -> list[dict[str, Any]]:
        """Each part's own limit and law, for a matter without one statutory limit."""
        parts = self.extra.get("legal_limit_parts") or []
        return [p for p in parts if isinstance(p, dict)]

    @property
    def departments(self) -> tuple[str, ...]:
        """The supervising departments, in catalogue order (matters deployed before the list: the one)."""
        return self.supervising_departments or (self.supervising_department,)

    @property
    def four_eyes(self) -> tuple[frozenset[str], frozenset[str]] | None:
        """四眼原则: (review step ids, approval step ids) when ``four_eyes = true``, else None."""
        if self.extra.get("four_eyes") is not True:
            return None
        return frozenset(self.extra.get("review_steps") or ()), frozenset(self.extra.get("approval_steps") or ())

    @property
    def service_levels(self) -> tuple[str, ...]:
        """The levels (district, street, community) whose service points handle the matter; a catalogue
        that names none: the district hall only."""
        levels = self.extra.get("service_levels")
        return tuple(str(level) for level in levels) if isinstance(levels, list) and levels else ("district",)

    @property
    def required_materials(self) -> list[str]:
        return [m.code for m in self.materials if m.required]

    def pause_basis(self, kind: str) -> str | None:
        """The rule this matter's catalogue names for not counting a special procedure beyond Art. 45."""
        named = self.extra.get("special_procedures") or {}
        basis = named.get(kind) if isinstance(named, dict) else None
        return basis.strip() if isinstance(basis, str) and basis.strip() else None

    @property
    def waivable_materials(self) -> list[str]:
        return [m.code for m in self.materials if m.waivable]

    def process_data(self) -> dict[str, Any]:
        """What the BPMN sees as ``matter`` in its task data."""
        return {
            "key": self.key,
            "code": self.code,
            "name": self.name,
            "handling_type": self.handling_type,
            "lead_section": self.lead_section,
            "co_sections": list(self.co_sections),
            "materials": [m.code for m in self.materials],
            "required_materials": self.required_materials,
            "supervising_department": self.supervising_department,
            "result_name": self.result_name,
            **self._pattern_data(),
        }

    def _pattern_data(self) -> dict[str, Any]:
        """What the patterns read from ``matter``, only for matters that use them (see INSPECTION_FIELDS)."""
        data: dict[str, Any] = {}
        inspection = self.extra.get("inspection")
        if isinstance(inspection, dict):
            data["inspection"] = {
                "department": bool(inspection.get("department", False)),
                "items": list(inspection.get("items", [])),
                "rectification_limit": f"{int(inspection.get('rectification_days', 0))} working_days",
            }
        waiver = self.extra.get("waiver")
        if isinstance(waiver, dict):
            data["waivable_materials"] = self.waivable_materials
            data["waiver_limit"] = f"{int(waiver.get('days', 0))} working_days"
        return data

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Matter:
        return cls(
            **{
                **d,
                "legal_limit": Limit(**d["legal_limit"]),
                "committed_limit": Limit(**d["committed_limit"]),
                "co_sections": tuple(d["co_sections"]),
                "materials": tuple(Material(**m) for m in d["materials"]),
                "lanes": dict(d.get("lanes") or {}),
                "applicant_name_fields": tuple(d.get("applicant_name_fields") or DEFAULT_APPLICANT_NAME_FIELDS),
                "supervising_departments": tuple(d.get("supervising_departments") or ()),
            }
        )


# ``legal_limit = "none"``: no single statutory limit for the whole matter (see ``Matter.legal_limit_statutory``).
NO_STATUTORY_LIMIT = "none"


def _legal_limit_parts(raw: Any, statutory: bool, file: str, problems: list[Problem]) -> None:
    """``legal_limit_parts = [{ part = "…", basis = "《…》第…条", limit = { value = 3, unit = "working_days" } }]``:
    the limit the law gives each part of a jointly handled matter (``limit`` left out where the law gives none)."""
    where = "legal_limit_parts"
    if raw is None:
        if not statutory:
            problems.append(
                Problem(
                    file,
                    'legal_limit = "none" needs legal_limit_parts: each part with the law that sets (or sets no) limit',
                    element=where,
                )
            )
        return
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(file, "'legal_limit_parts' must list { part, basis, limit } tables", element=where))
        return
    for i, part in enumerate(raw, 1):
        at = f"{where} #{i}"
        if not isinstance(part, dict) or not str(part.get("part") or "").strip():
            problems.append(Problem(file, "each part needs 'part' (what is done) as text", element=at))
            continue
        if not str(part.get("basis") or "").strip():
            problems.append(Problem(file, f"part '{part['part']}' needs 'basis': the law and article", element=at))
        if "limit" in part:
            _limit(part["limit"], f"{at}.limit", file, problems)
        for key in ("part_en", "basis_en"):
            if key in part and not isinstance(part[key], str):
                problems.append(Problem(file, f"'{key}' (the English) must be text", element=at))


def _limit(raw: Any, key: str, file: str, problems: list[Problem]) -> Limit:
    if not isinstance(raw, dict) or "value" not in raw or "unit" not in raw:
        problems.append(
            Problem(
                file,
                f"'{key}' must be a table {{ value = N, unit = \"working_days\" }}"
                + (' or "none" (no single statutory limit)' if key == "legal_limit" else ""),
                element=key,
            )
        )
        return Limit(0, "working_days")
    value, unit = raw["value"], raw["unit"]
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        problems.append(Problem(file, f"'{key}.value' must be a positive number, got {value!r}", element=key))
    if unit not in LIMIT_UNITS:
        problems.append(
            Problem(file, f"'{key}.unit' must be one of {', '.join(LIMIT_UNITS)}, got {unit!r}", element=key)
        )
    return Limit(float(value) if isinstance(value, int | float) else 0.0, str(unit))


def _materials(raw: Any, file: str, problems: list[Problem]) -> tuple[Material, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(file, "'materials' must list at least one [[materials]] entry", element="materials"))
        return ()
    out: list[Material] = []
    seen: set[str] = set()
    for i, m in enumerate(raw, 1):
        where = f"materials #{i}"
        missing = [k for k in ("code", "name", "issuer", "required") if k not in m]
        if missing:
            problems.append(Problem(file, f"missing field(s) {', '.join(missing)}", element=where))
            continue
        if m["code"] in seen:
            problems.append(Problem(file, f"duplicate material code '{m['code']}'", element=where))
        seen.add(m["code"])
        if not isinstance(m["required"], bool):
            problems.append(Problem(file, "'required' must be true or false", element=where))
        waivable = m.get("waivable")
        if waivable is not None and not isinstance(waivable, bool):
            problems.append(Problem(file, "'waivable' (容缺) must be true or false", element=where))
        elif waivable is True and m["required"] is not True:
            problems.append(Problem(file, "'waivable' (容缺) applies to a required material only", element=where))
        counts = {k: m.get(k, 0) for k in ("originals", "copies")}
        for k, v in counts.items():
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                problems.append(Problem(file, f"'{k}' must be a whole number ≥ 0, got {v!r}", element=where))
        out.append(
            Material(
                code=str(m["code"]),
                name=str(m["name"]),
                issuer=str(m["issuer"]),
                originals=int(counts["originals"]) if isinstance(counts["originals"], int) else 0,
                copies=int(counts["copies"]) if isinstance(counts["copies"], int) else 0,
                required=bool(m["required"]),
                waivable=waivable if isinstance(waivable, bool) else None,
                name_en=str(m.get("name_en") or "").strip(),
            )
        )
    return tuple(out)


def parse_catalogue(path: Path, bureau: Bureau) -> tuple[Matter | None, list[Problem]]:
    """Read and check one catalogue file; returns the matter (None if unusable) and every problem found."""
    file = str(path)
    where_sd = "supervising_department"
    problems: list[Problem] = []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [Problem(file, "catalogue file not found (every BPMN needs a <matter>.toml beside it)")]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        return None, [Problem(file, f"invalid TOML: {err}")]
    missing = [k for k in REQUIRED_FIELDS if k not in raw]
    if missing:
        return None, [Problem(file, f"missing required field(s): {', '.join(missing)}")]
    code = str(raw["code"])
    if len(code) > 10:
        problems.append(Problem(file, f"'code' (基本编码) is at most 10 characters, got {len(code)}", element="code"))
    if len(str(raw.get("implementation_code", ""))) > 24:
        problems.append(
            Problem(file, "'implementation_code' (实施编码) is at most 24 characters", element="implementation_code")
        )
    if str(raw["matter_type"]) not in MATTER_TYPES:
        problems.append(
            Problem(file, f"'matter_type' {raw['matter_type']!r} is not a GB/T 39046 code", element="matter_type")
        )
    if raw["handling_type"] not in HANDLING_TYPES:
        problems.append(
            Problem(file, f"'handling_type' must be one of {', '.join(HANDLING_TYPES)}", element="handling_type")
        )
    committed = _limit(raw["committed_limit"], "committed_limit", file, problems)
    statutory = raw["legal_limit"] != NO_STATUTORY_LIMIT
    legal = _limit(raw["legal_limit"], "legal_limit", file, problems) if statutory else committed
    _legal_limit_parts(raw.get("legal_limit_parts"), statutory, file, problems)
    if statutory and legal.unit == committed.unit and committed.value > legal.value:
        problems.append(Problem(file, "committed limit exceeds the legal limit", element="committed_limit"))
    co_sections = raw.get("co_sections", [])
    for sec in [raw["lead_section"], *co_sections]:
        if bureau.section(str(sec)) is None:
            problems.append(
                Problem(file, f"unknown section '{sec}'; known: {bureau.known_sections()}", element="lead_section")
            )
    supervising = raw["supervising_department"]
    departments = [str(d) for d in supervising] if isinstance(supervising, list) else [str(supervising)]
    if not departments or (isinstance(supervising, list) and not all(isinstance(d, str) for d in supervising)):
        problems.append(
            Problem(file, "'supervising_department' must be a department code or a list of them", element=where_sd)
        )
    for department in departments:
        if bureau.department(department) is None:
            known = ", ".join(d.code for d in bureau.departments)
            problems.append(
                Problem(file, f"unknown supervising department '{department}'; known: {known}", element=where_sd)
            )
    materials = _materials(raw["materials"], file, problems)
    _special_procedures(raw.get("special_procedures"), file, problems)
    from .patterns import PATTERN_FIELDS, check_pattern_fields  # it reads Matter and Limit from here

    check_pattern_fields(raw, {m.code for m in materials}, file, problems)
    _four_eyes(raw, file, problems)
    _inspection(raw.get("inspection"), file, problems)
    _waiver(raw.get("waiver"), materials, file, problems)
    if "supplement_limit" in raw:
        _limit(raw["supplement_limit"], "supplement_limit", file, problems)
    _service_levels(raw.get("service_levels"), file, problems)
    modelled = set(REQUIRED_FIELDS) | {
        "co_sections",
        "application_form",
        "name_en",
        "implementation_code",
        "lanes",
        "applicant_name_fields",
        "internal",
    }
    known = ", ".join(
        [
            *REQUIRED_FIELDS,
            *sorted(modelled - set(REQUIRED_FIELDS)),
            *GUIDE_FIELDS,
            *CLOCK_FIELDS,
            *FOUR_EYES_FIELDS,
            *IMPORT_FIELDS,
            *PATTERN_FIELDS,
            *INSPECTION_FIELDS,
        ]
    )
    extras = {*GUIDE_FIELDS, *CLOCK_FIELDS, *FOUR_EYES_FIELDS, *IMPORT_FIELDS, *PATTERN_FIELDS, *INSPECTION_FIELDS}
    for key in raw:
        if key not in modelled and key not in extras:
            problems.append(
                Problem(
                    file,
                    f"unknown key '{key}'; a catalogue knows {known}",
                    element=key,
                )
            )
    lanes = _lanes(raw.get("lanes", {}), file, bureau, problems)
    name_fields = raw.get("applicant_name_fields", list(DEFAULT_APPLICANT_NAME_FIELDS))
    if not isinstance(name_fields, list) or not name_fields or not all(isinstance(f, str) and f for f in name_fields):
        problems.append(
            Problem(
                file,
                "'applicant_name_fields' must list field names of the application form",
                element="applicant_name_fields",
            )
        )
        name_fields = list(DEFAULT_APPLICANT_NAME_FIELDS)
    internal = raw.get("internal", False)
    if not isinstance(internal, bool):
        problems.append(Problem(file, "'internal' must be true or false", element="internal"))
    matter = Matter(
        internal=internal is True,
        key=path.stem,
        code=code,
        name=str(raw["name"]),
        name_en=str(raw.get("name_en", "")),
        implementation_code=str(raw.get("implementation_code", "")),
        matter_type=str(raw["matter_type"]),
        handling_type=str(raw["handling_type"]),
        process_id=str(raw["process_id"]),
        legal_limit=legal,
        legal_limit_statutory=statutory,
        committed_limit=committed,
        lead_section=str(raw["lead_section"]),
        co_sections=tuple(str(s) for s in co_sections),
        materials=materials,
        supervising_department=departments[0] if departments else "",
        supervising_departments=tuple(dict.fromkeys(departments)),
        result_name=str(raw["result_name"]),
        application_form=raw.get("application_form"),
        extra={k: v for k, v in raw.items() if k not in modelled},
        lanes=lanes,
        applicant_name_fields=tuple(name_fields),
    )
    return matter, problems


def _lanes(raw: Any, file: str, bureau: Bureau, problems: list[Problem]) -> dict[str, str]:
    """``[lanes] "Finance Approval" = "finance"``: a lane (by id or name) -> a section (code or name)."""
    if not isinstance(raw, dict):
        problems.append(Problem(file, '\'lanes\' must be a table: "lane id or name" = "section"', element="lanes"))
        return {}
    out: dict[str, str] = {}
    for lane, value in raw.items():
        section = bureau.section_for_lane(value) if isinstance(value, str) else None
        if section is None:
            problems.append(
                Problem(
                    file,
                    f"lane '{lane}' is mapped to {value!r}, which is no section; known: {bureau.known_sections()}",
                    element=f"lanes.{lane}",
                )
            )
        else:
            out[str(lane)] = section.code
    return out


def _four_eyes(raw: Mapping[str, Any], file: str, problems: list[Problem]) -> None:
    """``four_eyes = true`` with ``review_steps`` and ``approval_steps``: lists of user task ids (checked against
    the BPMN at deploy)."""
    flag = raw.get("four_eyes", False)
    if not isinstance(flag, bool):
        problems.append(Problem(file, "'four_eyes' must be true or false", element="four_eyes"))
        return
    for key in ("review_steps", "approval_steps"):
        steps = raw.get(key)
        if steps is None and not flag:
            continue
        if not isinstance(steps, list) or not steps or not all(isinstance(s, str) and s for s in steps):
            problems.append(
                Problem(
                    file,
                    f"'{key}' must list the BPMN ids of the {key.split('_')[0]} user tasks when four_eyes = true",
                    element=key,
                )
            )


def _service_levels(raw: Any, file: str, problems: list[Problem]) -> None:
    """``service_levels = ["district", "street"]``: where the matter is handled (absent: the district only)."""
    if raw is None:
        return
    known = ", ".join(f"{code} ({name})" for code, name in LEVEL_NAMES.items())
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(file, f"'service_levels' must list levels of {known}", element="service_levels"))
        return
    for level in raw:
        if level not in LEVEL_NAMES:
            problems.append(
                Problem(file, f"unknown service level {level!r}; levels: {known}", element="service_levels")
            )


# Special procedures whose time counts under 行政许可法 Art. 45 unless the matter's own law excludes it.
NON_ART45_PROCEDURES = ("inspection", "rectification", "other")


def _special_procedures(raw: Any, file: str, problems: list[Problem]) -> None:
    """``special_procedures = { inspection = "《…》第…条" }``: each kind beyond Art. 45 with its legal basis."""
    if raw is None:
        return
    where = "special_procedures"
    if not isinstance(raw, dict):
        problems.append(Problem(file, "'special_procedures' must be a table: kind = \"legal basis\"", element=where))
        return
    for kind, basis in raw.items():
        if kind not in NON_ART45_PROCEDURES:
            problems.append(
                Problem(
                    file,
                    f"'{kind}': only {', '.join(NON_ART45_PROCEDURES)} need a basis here; hearing, tender, testing, "
                    "quarantine, appraisal and expert_review stop the clock under 行政许可法 Art. 45 already",
                    element=where,
                )
            )
        elif not isinstance(basis, str) or not basis.strip():
            problems.append(Problem(file, f"'{kind}' needs the law that excludes its time, as text", element=where))


def _positive_days(raw: Any) -> bool:
    return isinstance(raw, int) and not isinstance(raw, bool) and raw > 0


def _inspection(raw: Any, file: str, problems: list[Problem]) -> None:
    """``[inspection]`` of a matter calling the 现场踏勘 pattern: department (bool), items, rectification_days."""
    if raw is None:
        return
    where = "inspection"
    if not isinstance(raw, dict):
        problems.append(Problem(file, "'inspection' must be a table", element=where))
        return
    for key in raw:
        if key not in ("department", "items", "rectification_days"):
            problems.append(
                Problem(
                    file,
                    f"unknown key '{key}'; [inspection] knows department, items, rectification_days",
                    element=where,
                )
            )
    if not isinstance(raw.get("department", False), bool):
        problems.append(Problem(file, "'inspection.department' must be true or false", element=where))
    items = raw.get("items", [])
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        problems.append(Problem(file, "'inspection.items' must list the items checked on site, as text", element=where))
    if not _positive_days(raw.get("rectification_days")):
        problems.append(
            Problem(file, "'inspection.rectification_days' must be a whole number of working days > 0", element=where)
        )


def _waiver(raw: Any, materials: tuple[Material, ...], file: str, problems: list[Problem]) -> None:
    """``[waiver]`` (容缺受理): days = N working days for the waived material, basis = the local rule."""
    where = "waiver"
    if raw is None:
        if any(m.waivable for m in materials):
            problems.append(
                Problem(file, 'materials marked waivable need a [waiver] table: days = N, basis = "…"', element=where)
            )
        return
    if not isinstance(raw, dict):
        problems.append(Problem(file, "'waiver' must be a table: days = N, basis = \"…\"", element=where))
        return
    for key in raw:
        if key not in ("days", "basis"):
            problems.append(Problem(file, f"unknown key '{key}'; [waiver] knows days, basis", element=where))
    if not _positive_days(raw.get("days")):
        problems.append(Problem(file, "'waiver.days' must be a whole number of working days > 0", element=where))
    if not isinstance(raw.get("basis"), str) or not str(raw.get("basis")).strip():
        problems.append(Problem(file, "'waiver.basis' must name the rule that allows 容缺受理", element=where))
    if not any(m.waivable for m in materials):
        problems.append(Problem(file, "[waiver] but no material is marked waivable = true", element=where))
