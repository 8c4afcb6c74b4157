"""The layering rules of the README's architecture section, checked on every file's imports.

The CLI and the worklist use the engine only through ``onewindow.engine``: every ``.py`` file under cli/
and worklist/ is parsed and may import no engine submodule (``onewindow.engine.<anything>``) and no
SQLAlchemy. The engine never imports Flask or click, and its private packages import only downwards.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import onewindow.engine

ROOT = Path(__file__).resolve().parent.parent
EDGES = ("cli", "worklist")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every absolute import in the file (relative imports stay inside the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # ``from onewindow import engine`` then ``engine._store``: the submodule named as an import
            if node.module in ("onewindow", "onewindow.engine"):
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def python_files(*folders: str) -> list[Path]:
    files = sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folders}"
    return files


def offending(module: str) -> bool:
    if module == "sqlalchemy" or module.startswith("sqlalchemy."):
        return True
    if module.startswith("onewindow.engine."):
        # ``from onewindow.engine import X`` lists X as onewindow.engine.X: fine when X is public API
        name = module.removeprefix("onewindow.engine.")
        return "." in name or name not in onewindow.engine.__all__
    return False


@pytest.mark.parametrize("path", python_files(*EDGES), ids=lambda p: str(p.relative_to(ROOT)))
def test_edges_import_only_the_public_engine_api(path: Path) -> None:
    bad = [f"{path.relative_to(ROOT)}:{line}: {module}" for line, module in imported_modules(path) if offending(module)]
    assert bad == []


def test_the_rule_catches_what_it_forbids(tmp_path: Path) -> None:
    """The check itself is not blind: each forbidden form is found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sqlalchemy\n"
        "from sqlalchemy.exc import OperationalError\n"
        "from onewindow.engine._store.db import Database\n"
        "import onewindow.engine._services.cases\n"
        "from onewindow.engine import _engine\n"
        "from onewindow.engine import Engine, TaskView\n"
        "from . import app\n",
        encoding="utf-8",
    )
    bad = [line for line, module in imported_modules(sample) if offending(module)]
    assert bad == [1, 2, 3, 4, 5]


def test_the_engine_never_imports_the_web_or_the_command_line() -> None:
    """Jinja2 is the web's templating, with one exception: the official documents are Jinja2 templates
    rendered to PDF (engine/_documents/), and only there may the engine import it."""
    documents = ROOT / "engine" / "_documents"
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in python_files("engine")
        for line, module in imported_modules(path)
        if module.split(".")[0] in ("flask", "click", "werkzeug")
        or (module.split(".")[0] == "jinja2" and documents not in path.parents)
        or module.startswith(("onewindow.cli", "onewindow.worklist"))
    ]
    assert bad == []


def test_every_exported_name_exists() -> None:
    missing = [name for name in onewindow.engine.__all__ if not hasattr(onewindow.engine, name)]
    assert missing == []
    assert len(set(onewindow.engine.__all__)) == len(onewindow.engine.__all__)


# What each part of the engine may import from the others (besides itself). The domain packages (files,
# processes, dates) never open a session: only the services touch the database.
BOTTOM = {"_errors", "_states"}
DOMAIN = {"_config", "_bpmn", "_time", "_documents"}
ALLOWED = {
    "_errors": set(),
    "_states": set(),
    "_store": BOTTOM,
    **{name: BOTTOM | DOMAIN for name in DOMAIN},
    "_services": BOTTOM | DOMAIN | {"_store"},
    "_engine": BOTTOM | DOMAIN | {"_store", "_services"},
    "_simulation": BOTTOM | DOMAIN | {"_store", "_services", "_engine"},
}


def engine_imports(path: Path) -> set[str]:
    """The engine's top-level parts (``_store``, ``_services`` …) a file inside engine/ imports."""
    here = list(path.relative_to(ROOT / "engine").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = here[: len(here) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [node.names[0].name])
            found.add(target[0].removesuffix(".py"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("onewindow.engine."):
            found.add((node.module or "").split(".")[2])
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in python_files("engine") if p.relative_to(ROOT / "engine").parts[0] in ALLOWED or p.stem in ALLOWED],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_engine_packages_import_only_downwards(path: Path) -> None:
    part = path.relative_to(ROOT / "engine").parts[0].removesuffix(".py")
    assert engine_imports(path) - {part} <= ALLOWED[part]
