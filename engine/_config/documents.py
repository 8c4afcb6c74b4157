"""``[documents]`` of bureau.toml: number formats per document kind, the seal each kind carries, where the
verification page is published, and the appeal bodies named on refusals.

    [documents]
    verify_url = "https://zwfw.example.gov.cn/verify"   # the QR points at <verify_url>/<code>
    specimen = true                                      # seals marked 样章 (demo)
    review_body = "成都市武侯区人民政府"                   # 行政复议机关
    court = "有管辖权的人民法院"
    bureau_seal_no = "510107-00"                          # the bureau's (window's) numbered seal

    [documents.numbers]      # {year}, {seq} (or {seq:04d}), {division}, {matter_code}
    approval_decision = "武审批〔{year}〕{seq}号"

    [documents.seals]        # "bureau" (the window's) or "lead" (the lead section's 行政审批专用章)
    acceptance_notice = "bureau"
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from .._documents.kinds import KINDS, DocumentKind
from .._errors import ConfigError

__all__ = ["DEFAULT_NUMBERS", "DEFAULT_SEALS", "DocumentsConfig", "parse_documents"]

DEFAULT_NUMBERS: dict[str, str] = {
    DocumentKind.SUPPLEMENT_NOTICE: "武审批补告〔{year}〕{seq}号",
    DocumentKind.ACCEPTANCE_NOTICE: "武审批受〔{year}〕{seq}号",
    DocumentKind.REFUSAL_NOTICE: "武审批不受〔{year}〕{seq}号",
    DocumentKind.APPROVAL_DECISION: "武审批〔{year}〕{seq}号",
    DocumentKind.REFUSAL_DECISION: "武审批不许〔{year}〕{seq}号",
    DocumentKind.RESULT: "{division}-{year}-{matter_code}-{seq:05d}",
    DocumentKind.EXTENSION_NOTICE: "武审批延〔{year}〕{seq}号",
    DocumentKind.DELIVERY_RECEIPT: "武审批送〔{year}〕{seq}号",
    DocumentKind.SPECIAL_PROCEDURE_NOTICE: "武审批特告〔{year}〕{seq}号",
    DocumentKind.WITHDRAWAL_NOTICE: "武审批撤〔{year}〕{seq}号",
    DocumentKind.TERMINATION_NOTICE: "武审批终〔{year}〕{seq}号",
}
DEFAULT_SEALS: dict[str, str] = {k: ("lead" if s.seal_class == "decision" else "bureau") for k, s in KINDS.items()}
_FIELDS = {"year", "seq", "division", "matter_code"}


@dataclass(frozen=True)
class DocumentsConfig:
    numbers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NUMBERS))
    seals: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEALS))
    verify_url: str = "http://127.0.0.1:8000/verify"
    specimen: bool = False
    review_body: str = ""
    court: str = "有管辖权的人民法院"
    bureau_seal_no: str = ""


def _check_format(fmt: str, where: str) -> None:
    try:
        names = {f[1].split(".")[0].split("[")[0] for f in string.Formatter().parse(fmt) if f[1] is not None}
    except ValueError as err:
        raise ConfigError(f"{where}: {fmt!r} is not a valid format: {err}") from None
    if "seq" not in names:
        raise ConfigError(f"{where}: {fmt!r} has no {{seq}}: every number needs its sequence")
    if unknown := names - _FIELDS:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_FIELDS))}"
        )
    try:
        fmt.format(year=2026, seq=1, division="510107", matter_code="0001")
    except (ValueError, KeyError, IndexError) as err:
        raise ConfigError(f"{where}: {fmt!r} cannot be formatted: {err}") from None


def parse_documents(raw: Any, where: str) -> DocumentsConfig:
    if raw is None:
        return DocumentsConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {"numbers", "seals", "verify_url", "specimen", "review_body", "court", "bureau_seal_no"}
    if unknown := sorted(set(raw) - known):
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    kinds = {k.value for k in DocumentKind}
    numbers = dict(DEFAULT_NUMBERS)
    for kind, fmt in (raw.get("numbers") or {}).items():
        if kind not in kinds:
            raise ConfigError(f"{where}.numbers: unknown document kind '{kind}'; known: {', '.join(sorted(kinds))}")
        _check_format(str(fmt), f"{where}.numbers.{kind}")
        numbers[kind] = str(fmt)
    seals = dict(DEFAULT_SEALS)
    for kind, owner in (raw.get("seals") or {}).items():
        if kind not in kinds:
            raise ConfigError(f"{where}.seals: unknown document kind '{kind}'; known: {', '.join(sorted(kinds))}")
        if owner not in ("bureau", "lead"):
            raise ConfigError(f"{where}.seals.{kind}: '{owner}' is not 'bureau' or 'lead'")
        if KINDS[DocumentKind(kind)].seal_class == "decision" and owner != "lead":
            raise ConfigError(f"{where}.seals.{kind}: decisions and results carry the lead section's seal")
        seals[kind] = str(owner)
    specimen = raw.get("specimen", False)
    if not isinstance(specimen, bool):
        raise ConfigError(f"{where}: specimen must be true or false")
    return DocumentsConfig(
        numbers=numbers,
        seals=seals,
        verify_url=str(raw.get("verify_url", DocumentsConfig.verify_url)).rstrip("/"),
        specimen=specimen,
        review_body=str(raw.get("review_body", "")),
        court=str(raw.get("court", DocumentsConfig.court)),
        bureau_seal_no=str(raw.get("bureau_seal_no", "")),
    )
