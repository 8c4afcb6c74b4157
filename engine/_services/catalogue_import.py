"""``onewindow catalogue import`` and ``catalogue stats``: the bureau's 事项清单 in, deployed as matters.

All or nothing: the table is checked row by row, the generated files are checked as ``deploy --check``
checks any folder, and only then are they deployed (a changed matter gets a new version, an unchanged one
keeps its own) and written to the folder of imported matters, replacing what an earlier import wrote there.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config.catalogue import parse_catalogue
from .._config.catalogue_table import GENERATED_MARK, LEVELS, MATTER_TYPE_NAMES, generate_files, read_rows
from .._errors import DeploymentError, Problem
from .repository import DeployOutcome, RepositoryService

__all__ = ["CatalogueImport", "CatalogueService", "catalogue_stats"]

STATS_FIELDS = ("source_department", "transferred", "service_levels", "template")
LEVEL_NAMES = {code: name for name, code in LEVELS.items()}


@dataclass
class CatalogueImport:
    source: str
    folder: str
    matters: list[str] = field(default_factory=list)  # matter keys generated from the table
    own: dict[str, str] = field(default_factory=dict)  # row code -> the hand-drawn matter that wins
    outcomes: list[DeployOutcome] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # files of matters no longer in the table
    checked_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "folder": self.folder,
            "checked_only": self.checked_only,
            "matters": len(self.matters),
            "own_bpmn": self.own,
            "deployed": [o.__dict__ for o in self.outcomes if o.changed],
            "unchanged": [o.matter_key for o in self.outcomes if not o.changed],
            "removed": self.removed,
        }


class CatalogueService:
    def __init__(self, repository: RepositoryService) -> None:
        self.repository = repository

    def import_table(
        self,
        path: Path,
        folder: Path,
        *,
        processes_dir: Path,
        actor: str,
        check: bool,
        materials: Path | None = None,
    ) -> CatalogueImport:
        """Check the table, generate each matter into ``folder`` and deploy them; on any problem raise
        DeploymentError with every problem and write nothing. ``processes_dir``: hand-drawn matters there
        whose code a row names win over the row's template. ``materials``: a table of materials by 基本编码
        (an XLSX may hold it as its sheet 材料 instead)."""
        repository = self.repository
        rows, problems = read_rows(path, repository.bureau, materials)
        if problems:
            raise DeploymentError(problems)
        own = _own_matters(processes_dir, repository, folder)
        result = CatalogueImport(str(path), str(folder), checked_only=check)
        generated: dict[str, bytes] = {}
        for row in rows:
            if row.code in own:
                result.own[row.code] = own[row.code]
                continue
            generated.update(generate_files(row, repository.bureau, repository.forms_dir, str(path)))
            result.matters.append(row.key)
        with tempfile.TemporaryDirectory(prefix="onewindow-import-") as tmp:
            staging = Path(tmp)
            for name, content in generated.items():
                (staging / name).write_bytes(content)
            report = repository.check(staging) if generated else None
            if report is not None and report.problems:
                raise DeploymentError([_from_staging(p, staging, folder) for p in report.problems])
            if check:
                return result
            if report is not None:
                result.outcomes = repository.deploy(staging, actor=actor, report=report)
        result.removed = _write(folder, generated)
        return result

    def stats(self, path: Path | None = None) -> dict[str, Any]:
        """``catalogue_stats`` of the deployed public matters (latest versions), or of a table's rows."""
        if path is not None:
            rows, problems = read_rows(path, self.repository.bureau)
            if problems:
                raise DeploymentError(problems)
            return catalogue_stats([r.stats_entry() for r in rows])
        entries = [
            {"matter_type": m.matter_type, **{k: m.extra.get(k) for k in STATS_FIELDS}}
            for m in self.repository.matters()
            if not m.internal
        ]
        return catalogue_stats(entries)


def _own_matters(processes_dir: Path, repository: RepositoryService, folder: Path) -> dict[str, str]:
    """Code -> key of the hand-drawn matters of ``processes_dir`` (its top level; not the import folder)."""
    out: dict[str, str] = {}
    if not processes_dir.is_dir():
        return out
    for toml in sorted(processes_dir.glob("*.toml")):
        if folder.resolve() == processes_dir.resolve() and toml.read_text(encoding="utf-8").startswith(GENERATED_MARK):
            continue
        if not toml.with_suffix(".bpmn").is_file():
            continue
        matter, _ = parse_catalogue(toml, repository.bureau)
        if matter is not None:
            out[matter.code] = matter.key
    return out


def _from_staging(problem: Problem, staging: Path, folder: Path) -> Problem:
    """A problem of a generated file, named as the file will be named in the import folder."""
    name = problem.file.replace(str(staging), str(folder))
    return Problem(name, problem.message, problem.line, problem.element)


def _write(folder: Path, generated: dict[str, bytes]) -> list[str]:
    """Write the generated files (unchanged ones untouched) and remove those an earlier import wrote for
    matters no longer in the table; files of the folder not written by an import are left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    removed: list[str] = []
    for toml in sorted(folder.glob("*.toml")):
        if toml.name in generated or not toml.read_text(encoding="utf-8").startswith(GENERATED_MARK):
            continue
        for stale in (toml, toml.with_suffix(".bpmn")):
            if stale.exists():
                stale.unlink()
                removed.append(str(stale))
    for name, content in generated.items():
        target = folder / name
        if not target.is_file() or target.read_bytes() != content:
            partial = target.with_name(f".{name}.part")
            partial.write_bytes(content)
            shutil.move(partial, target)
    return removed


def catalogue_stats(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by matter type, source department, service level and template, and the concentration ratio
    (划转 ÷ all matters). ``entries``: one dict per matter with the fields ``ImportRow.stats_entry`` gives;
    a matter that does not say (a hand-drawn one) counts under 未标注 and as not transferred."""
    unknown = "未标注"
    total = len(entries)
    transferred = sum(1 for e in entries if e.get("transferred") is True)
    by_level: Counter[str] = Counter()
    for e in entries:
        for level in e.get("service_levels") or [None]:
            by_level[LEVEL_NAMES.get(str(level), unknown)] += 1
    return {
        "total": total,
        "by_type": _sorted(
            Counter(f"{e['matter_type']} {MATTER_TYPE_NAMES.get(e['matter_type'], '')}".strip() for e in entries)
        ),
        "by_source_department": _sorted(Counter(e.get("source_department") or unknown for e in entries)),
        "by_level": _sorted(by_level),
        "by_template": _sorted(Counter(e.get("template") or "own" for e in entries)),
        "transferred": transferred,
        "concentration": round(transferred / total, 4) if total else 0.0,
    }


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
