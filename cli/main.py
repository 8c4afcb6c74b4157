"""``onewindow``: deploy, inspect and run approval matters from the command line.

Exit codes: 0 success, 1 a domain error (one line on stderr), 2 a usage error.
"""

from __future__ import annotations

from . import (  # noqa: F401  (they register their commands)
    absence_commands,
    apikey_commands,
    audit_commands,
    backup_commands,
    case_commands,
    catalogue_commands,
    check_commands,
    clock_commands,
    demo,
    document_commands,
    file_commands,
    hotline_commands,
    incident_commands,
    intermediary_commands,
    migrate_commands,
    new_commands,
    outbox_commands,
    rating_commands,
    render_commands,
    score_commands,
    serve_commands,
    simulate_commands,
    task_commands,
    user_commands,
)
from .app import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="onewindow")
