"""``onewindow new matter``: write a new matter's BPMN, catalogue and form stubs that deploy as they are.

Nothing is overwritten: every target file is checked first and, if one exists, nothing is written. The
catalogue carries placeholder values marked 待填写 (to fill in) where only the bureau knows the answer
(basic code, legal basis, fees); the forms are short stubs with the fields the template's gateways and
scripts read, so a case runs from intake to issue before the designer changes anything.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._bpmn.templates import PARALLEL_TEMPLATES, TEMPLATES, TemplateLanes, build_process
from .._errors import ConfigError
from .bureau import Bureau, SectionKind, load_bureau

__all__ = ["SCAFFOLD_TEMPLATES", "ScaffoldResult", "scaffold_matter", "template_roles"]

SCAFFOLD_TEMPLATES = dict(TEMPLATES)


def _shipped_bureau() -> Path:
    import onewindow.processes

    return Path(onewindow.processes.__file__).parent / "bureau.toml"


KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
SCHEMA = "https://json-schema.org/draft/2020-12/schema"
MATERIALS = (
    ("M01", "申请书", "申请人", 1, 0, True),
    ("M02", "申请人主体资格证明(营业执照或身份证明)", "申请人", 0, 1, True),
    ("M03", "授权委托书及被委托人身份证明(委托他人办理时提交)", "申请人", 1, 1, False),
)


@dataclass
class ScaffoldResult:
    key: str
    template: str
    written: list[Path] = field(default_factory=list)


def scaffold_matter(
    key: str,
    *,
    name: str,
    template: str,
    processes_dir: Path,
    forms_dir: Path,
    lead_section: str | None = None,
    co_sections: tuple[str, ...] = (),
    supervising_department: str | None = None,
    code: str | None = None,
) -> ScaffoldResult:
    """Write ``<key>.bpmn``, ``<key>.toml`` and ``<key>_*.json``; on bad input raise ConfigError, writing nothing.

    The sections come from ``processes_dir/bureau.toml``; a folder without one gets a copy of the shipped
    bureau.toml (listed among the written files), since deploying from that folder reads it.
    """
    bureau_path = processes_dir / "bureau.toml"
    new_bureau = not bureau_path.exists()
    bureau = load_bureau(_shipped_bureau() if new_bureau else bureau_path)
    if not KEY_PATTERN.match(key):
        raise ConfigError(f"matter key '{key}': use lower-case letters, digits and _ (e.g. food_business_licence)")
    if not name.strip():
        raise ConfigError("--name: the matter's Chinese name (事项名称) is required")
    if template not in TEMPLATES:
        raise ConfigError(f"unknown template '{template}'; templates: {', '.join(TEMPLATES)}")
    window = _first(bureau, SectionKind.INTAKE_WINDOW)
    issuing = _first(bureau, SectionKind.ISSUING_WINDOW)
    approval = [s.code for s in bureau.sections if s.kind == SectionKind.APPROVAL_SECTION]
    lead = lead_section or (approval[0] if approval else "")
    lead_row = bureau.section(lead)
    if lead_row is None or lead_row.kind != SectionKind.APPROVAL_SECTION:
        raise ConfigError(f"--lead '{lead}' is not an approval section of the bureau; approval sections: {approval}")
    co: tuple[str, ...] = ()
    if template == "joint_inspection":
        co = co_sections
    elif template == "joint_review":
        co = co_sections or tuple(c for c in approval if c != lead)[:2]
    if template in PARALLEL_TEMPLATES:
        for c in co:
            if c == lead or bureau.section(c) is None:
                raise ConfigError(f"--co '{c}' must be another section of the bureau; known: {bureau.known_sections()}")
        if not co and template == "joint_review":
            raise ConfigError("joint_review needs at least one co-reviewing section (--co CODE)")
    elif co_sections:
        raise ConfigError(f"--co applies to the {' and '.join(PARALLEL_TEMPLATES)} templates only")
    department = supervising_department or (bureau.departments[0].code if bureau.departments else "")
    if bureau.department(department) is None:
        known = ", ".join(d.code for d in bureau.departments)
        raise ConfigError(f"--supervising '{department}' is not a department of the bureau; known: {known}")

    roles = template_roles(template)
    forms = {role: f"{key}_{role}.json" for role in roles}
    lanes = TemplateLanes(
        window=window.name,
        lead=lead_row.name,
        issuing=issuing.name,
        co_sections=tuple((c, _section_name(bureau, c)) for c in co),
        co_sections_en=tuple((c, s.name_en) for c in co if (s := bureau.section(c)) and s.name_en),
        inspection=_first(bureau, SectionKind.INSPECTION_CENTRE).name if template == "joint_inspection" else "",
        window_en=window.name_en,
        lead_en=lead_row.name_en,
        issuing_en=issuing.name_en,
        inspection_en=_first(bureau, SectionKind.INSPECTION_CENTRE).name_en if template == "joint_inspection" else "",
    )
    files: dict[Path, bytes] = {
        processes_dir / f"{key}.bpmn": build_process(
            template,
            key=key,
            name=name.strip(),
            bureau_name=bureau.name,
            bureau_name_en=bureau.name_en,
            lanes=lanes,
            forms=forms,
        ),
        processes_dir / f"{key}.toml": _catalogue(
            key, name.strip(), template, bureau, lead, co, department, code or _placeholder_code(key), forms
        ).encode(),
    }
    seal_no = lead_row.seal_no
    for role, filename in forms.items():
        files[forms_dir / filename] = _dump(FORM_STUBS[role](name.strip(), seal_no))
    if new_bureau:
        files[bureau_path] = _shipped_bureau().read_bytes()
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise ConfigError(f"{existing[0]}: already exists; nothing was written (choose another key or move it)")
    result = ScaffoldResult(key, template)
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        result.written.append(path)
    return result


def template_roles(template: str) -> list[str]:
    """The forms a template's tasks name, by role (the application form first)."""
    roles = ["application", "intake", "supplement", "decision", "seal", "issue", "deliver_refusal"]
    if template in PARALLEL_TEMPLATES:
        roles[3:3] = ["lead_review", "co_review"]
    if template == "joint_inspection":
        roles.insert(5, "inspection")
    return roles


def _first(bureau: Bureau, kind: SectionKind) -> Any:
    for section in bureau.sections:
        if section.kind == kind:
            return section
    raise ConfigError(f"{bureau.source or 'bureau.toml'}: no section of kind '{kind.value}' for the template's lane")


def _section_name(bureau: Bureau, code: str) -> str:
    section = bureau.section(code)
    return section.name if section else code


def _placeholder_code(key: str) -> str:
    # A stable 10-digit stand-in, so two scaffolded matters never share a code; replace it with the real 基本编码.
    return f"9{zlib.crc32(key.encode()) % 10**9:09d}"


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _catalogue(
    key: str,
    name: str,
    template: str,
    bureau: Bureau,
    lead: str,
    co: tuple[str, ...],
    department: str,
    code: str,
    forms: dict[str, str],
) -> str:
    joint = template in PARALLEL_TEMPLATES
    # 行政许可法 Art. 42: 20 working days; Art. 26 (joint handling by several sections): 45.
    legal, committed = (45, 15) if joint else (20, 10)
    lines = [
        f"# {name} — catalogue entry (GB/T 39046-2020 fields),",
        f"# written by `onewindow new matter --template {template}`.",
        "# Values marked 待填写 are placeholders: replace them before the matter goes live.",
        "",
        f"code = {_toml_str(code)}                 # 基本编码 (待填写: the placeholder is unique but not official)",
        f"name = {_toml_str(name)}",
        'matter_type = "01"                         # 01 行政许可 … 10 其他行政权力, 20 公共服务',
        'handling_type = "committed"                # immediate 即办件, committed 承诺件, other',
        f"process_id = {_toml_str(key)}",
        'legal_basis = "待填写: 设定依据"',
        f"implementing_body = {_toml_str(bureau.name)}",
        f'legal_limit = {{ value = {legal}, unit = "working_days" }}'
        f"       # 行政许可法 Art. {'26 (联合办理)' if joint else '42'}",
        f'committed_limit = {{ value = {committed}, unit = "working_days" }}',
        f"lead_section = {_toml_str(lead)}",
        f"co_sections = [{', '.join(_toml_str(c) for c in co)}]",
        f"supervising_department = {_toml_str(department)}",
        f"result_name = {_toml_str(name + '决定书')}",
        f"application_form = {_toml_str(forms['application'])}",
        'acceptance_conditions = ["待填写: 受理条件"]',
        'fee = { charged = false, basis = "" }',
        'handling_forms = ["1"]                     # 1 窗口, 2 PC, 3 移动, 4 快递',
    ]
    for m_code, m_name, issuer, originals, copies, required in MATERIALS:
        lines += [
            "",
            "[[materials]]",
            f"code = {_toml_str(m_code)}",
            f"name = {_toml_str(m_name)}",
            f"issuer = {_toml_str(issuer)}",
            f"originals = {originals}",
            f"copies = {copies}",
            f"required = {'true' if required else 'false'}",
        ]
    return "\n".join(lines) + "\n"


def _dump(schema: dict[str, Any]) -> bytes:
    return (json.dumps({"$schema": SCHEMA, **schema}, ensure_ascii=False, indent=2) + "\n").encode()


def _obj(title: str, props: dict[str, Any], required: list[str], **more: Any) -> dict[str, Any]:
    return {
        "title": title,
        "type": "object",
        "properties": props,
        "required": required,
        **more,
        "additionalProperties": False,
    }


TEXT = {"type": "string", "minLength": 1, "maxLength": 2000, "x-widget": "textarea"}
CODES = {"type": "string", "oneOf": [{"const": m[0], "title": m[1]} for m in MATERIALS]}
DELIVERY = {
    "type": "string",
    "oneOf": [{"const": "window", "title": "窗口领取"}, {"const": "express", "title": "快递送达"}],
}
FORM_STUBS: dict[str, Any] = {
    "application": lambda name, seal: _obj(
        f"{name}申请信息",
        {
            "applicant_name": {"title": "申请人名称", "type": "string", "minLength": 2, "maxLength": 100},
            "uscc": {"title": "统一社会信用代码", "type": "string", "format": "uscc"},
            "contact_name": {"title": "联系人", "type": "string", "minLength": 1, "maxLength": 50},
            "contact_mobile": {"title": "联系电话", "type": "string", "format": "cn-mobile"},
        },
        ["applicant_name", "contact_name", "contact_mobile"],
    ),
    "intake": lambda name, seal: _obj(
        "接件与材料核验",
        {
            "materials_received": {"title": "已收材料", "type": "array", "uniqueItems": True, "items": CODES},
            "intake_remarks": {"title": "核验意见", "type": "string", "maxLength": 1000, "x-widget": "textarea"},
        },
        ["materials_received"],
    ),
    "supplement": lambda name, seal: _obj(
        "一次性告知并登记补正",
        {
            "supplemented_materials": {
                "title": "补交材料",
                "type": "array",
                "minItems": 1,  # a 补正 registers what was handed in: an empty tick list is a slip
                "uniqueItems": True,
                "items": CODES,
            }
        },
        ["supplemented_materials"],
    ),
    "lead_review": lambda name, seal: _obj(
        "主办科室审查",
        {
            "review_opinion": {"title": "审查意见", **TEXT},
            "conditions_met": {"title": "符合法定条件和标准", "type": "boolean"},
        },
        ["review_opinion", "conditions_met"],
    ),
    "inspection": lambda name, seal: _obj(
        "现场核查",
        {
            "inspection_opinion": {"title": "核查意见", **TEXT},
            "site_conforms": {"title": "现场符合要求", "type": "boolean"},
        },
        ["inspection_opinion", "site_conforms"],
    ),
    "co_review": lambda name, seal: _obj(
        "协办科室会审意见",
        {"co_opinion": {"title": "会审意见", **TEXT}, "co_agree": {"title": "同意", "type": "boolean"}},
        ["co_opinion", "co_agree"],
    ),
    "decision": lambda name, seal: _obj(
        "审批决定",
        {
            "decision": {
                "title": "决定",
                "type": "string",
                "oneOf": [{"const": "approve", "title": "准予"}, {"const": "refuse", "title": "不予"}],
            },
            "decision_reasons": {"title": "决定理由", "type": "string", "maxLength": 2000, "x-widget": "textarea"},
        },
        ["decision"],
        **{
            "if": {"properties": {"decision": {"const": "refuse"}}, "required": ["decision"]},
            "then": {"properties": {"decision_reasons": {"minLength": 1}}, "required": ["decision_reasons"]},
        },
    ),
    # The seal comes from bureau.toml (the lead section's) and the numbers from the system: the seal number is
    # readOnly (the worklist shows it, nobody types it); one sent through the API is only checked against it.
    "seal": lambda name, seal: _obj(
        "用印",
        {
            "seal_no": {
                "title": "行政审批专用章编号",
                "type": "string",
                "default": seal,
                "readOnly": True,
                "pattern": "^[0-9]{6}-[0-9]{2}$",
            }
        },
        [],
    ),
    "issue": lambda name, seal: _obj(
        "统一出证",
        {
            "delivery": {"title": "送达方式", **DELIVERY},
            "id_checked": {"title": "已核验领取人身份证件并签收送达回证", "type": "boolean", "default": True},
        },
        ["delivery"],
    ),
    "deliver_refusal": lambda name, seal: _obj(
        "送达不予许可决定书",
        {
            "delivery": {"title": "送达方式", **DELIVERY},
            "id_checked": {"title": "已核验领取人身份证件并签收送达回证", "type": "boolean", "default": True},
        },
        ["delivery"],
    ),
}
