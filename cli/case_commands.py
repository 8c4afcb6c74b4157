"""``onewindow case start|show`` and ``onewindow tasks``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from onewindow.engine import CHINA_TZ, CaseStatus, CaseView, Engine, ServicePoint, TaskView

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app, read_json_file
from .types import POSITIVE_INT


def _when(value: datetime | None) -> str:
    """Instants are stored in UTC; clerks read China time."""
    return "-" if value is None else value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@cli.group()
def case() -> None:
    """Start and inspect cases (办件)."""


@case.command("start")
@click.argument("matter")
@click.option("--data", "data_file", type=click.Path(path_type=Path), required=True, help="Applicant data (JSON).")
@click.option("--user", default="", envvar="ONEWINDOW_USER", help="Clerk who takes the application.")
@click.option(
    "--point",
    default=None,
    help="Service point receiving it (bureau.toml [[points]] code); default: the clerk's own. Only an admin "
    "names another.",
)
@json_option
@pass_app
@domain_errors
def case_start(app: AppContext, matter: str, data_file: Path, user: str, point: str | None, as_json: bool) -> None:
    """Start a case of MATTER with the applicant data in FILE."""
    engine = app.engine()
    summary = engine.cases.start(matter, read_json_file(data_file), actor=user, point=point)
    missing = missing_materials(engine, engine.cases.show(summary.case_no))

    def text() -> None:
        click.echo(f"{summary.case_no} {summary.status_label} {summary.matter_name}")
        print_notice(missing)

    emit({**summary.to_dict(), "missing_materials": [{"code": c, "name": n} for c, n in missing]}, as_json, text)


def missing_materials(engine: Engine, view: CaseView) -> list[tuple[str, str]]:
    """The 一次性告知 list: the required materials still missing, while the case waits in 补正."""
    if view.summary.status != CaseStatus.SUPPLEMENT:
        return []
    return [(m.code, m.name) for m in engine.cases.materials(view.summary.case_no).missing]


def print_notice(missing: list[tuple[str, str]]) -> None:
    """一次性告知: every missing material at once, when a case enters 补正 (行政许可法 Art. 32)."""
    if missing:
        click.echo("一次性告知 (missing materials, 补正): " + "; ".join(f"{c} {n}" for c, n in missing))


def point_label(points: Sequence[ServicePoint], code: str) -> str:
    """``浆洗街街道便民服务中心 (jiangxijie, 街道)``; a code no longer in bureau.toml as it is."""
    point = next((p for p in points if p.code == code), None)
    return f"{point.name} ({code}, {point.level_name})" if point else code


def print_case(
    view: CaseView, missing: list[tuple[str, str]] | None = None, points: Sequence[ServicePoint] = ()
) -> None:
    missing = missing or []
    s = view.summary
    click.echo(f"{s.case_no}  {s.matter_name} (v{s.version})  {s.status_label}")
    click.echo(f"  applicant: {s.applicant_name or '-'}")
    click.echo(f"  channel: {s.channel_label}  query code: {view.query_code or '-'}")
    click.echo(f"  received at: {point_label(points, s.point)}")
    if s.origin_case_no:
        click.echo(f"  follow-up of: {s.origin_case_no}")
    if view.followups:
        click.echo(
            "  follow-up cases: " + ", ".join(f"{f.case_no} {f.matter_name} {f.status_label}" for f in view.followups)
        )
    click.echo(f"  received: {_when(s.created_at)}  accepted: {_when(s.accepted_at)}  finished: {_when(s.finished_at)}")
    click.echo(f"  committed due: {_when(s.committed_due_at)}  legal due: {_when(s.legal_due_at)}")
    lanes: dict[str, list[TaskView]] = {}
    for t in view.open_tasks:
        lanes.setdefault(t.lane or "-", []).append(t)
    click.echo("  open tasks:" if lanes else "  open tasks: none")
    for lane, tasks in lanes.items():
        click.echo(f"    [{lane}]")
        for t in tasks:
            claimed = f"  claimed by {t.claimed_by}" if t.claimed_by else ""
            step_due = f"  step due {_when(t.due_at)}" if t.due_at else ""
            click.echo(f"      {t.id}  {t.name}{step_due}{claimed}")
    if view.incidents:
        click.echo("  incidents:")
        for i in view.incidents:
            what = i.task_name or i.kind
            click.echo(f"    #{i.id}  {i.status:<8} {what}  attempts {i.attempts}  {i.message}")
    if missing:
        click.echo("  一次性告知 (missing materials, 补正):")
        for code, name in missing:
            click.echo(f"    {code}  {name}")
    click.echo("  history:")
    for e in view.history:
        who = e.actor or "system"
        click.echo(f"    {_when(e.at)}  {who:<12} {e.kind:<16} {e.title}")


@case.command("show")
@click.argument("case_no")
@click.option(
    "--user",
    default="",
    envvar="ONEWINDOW_USER",
    help="The account reading: personal data is shown in full only to the window that took it and the lead section.",
)
@json_option
@pass_app
@domain_errors
def case_show(app: AppContext, case_no: str, user: str, as_json: bool) -> None:
    """State, open tasks per lane and history of CASE_NO. ID and mobile numbers are masked unless --user is
    in the window that took them or the lead section."""
    engine = app.engine()
    account = engine.users.get(user) if user else None
    view = engine.privacy.case_view(account, engine.cases.show(case_no))
    missing = missing_materials(engine, view)
    payload = {**view.to_dict(), "missing_materials": [{"code": c, "name": n} for c, n in missing]}
    broken = engine.audit.case_chain(case_no)
    payload["history_chain"] = {"intact": broken is None, "break": broken.line() if broken else None}
    point = engine.bureau.point(view.summary.point)
    payload["received_at"] = {
        "code": view.summary.point,
        "name": point.name if point else None,
        "level": point.level if point else None,
    }

    def text() -> None:
        if broken is not None:  # first, and on stderr: whatever follows may be forged
            click.echo(f"WARNING: history chain broken: {broken.line()}", err=True)
        print_case(view, missing, engine.bureau.points)
        s = view.summary
        dues = [d.astimezone(CHINA_TZ).date() for d in (s.accepted_at, s.committed_due_at, s.legal_due_at) if d]
        for year in engine.calendar.unknown_years(min(dues), max(dues)) if dues else []:
            click.echo(
                f"warning: {year}: official holiday schedule not published; make-up working days unknown "
                "(onewindow calendar set)",
                err=True,
            )

    emit(payload, as_json, text)


@cli.command("tasks")
@click.option("--section", required=True, help="Section code, e.g. window, commerce.")
@click.option("--limit", type=POSITIVE_INT, default=200, show_default=True)
@json_option
@pass_app
@domain_errors
def tasks_list(app: AppContext, section: str, limit: int, as_json: bool) -> None:
    """READY tasks of a section, most urgent first."""
    rows = app.engine().tasks.for_section(section, limit=limit)

    def text() -> None:
        if not rows:
            click.echo(f"no open tasks for section {section}")
        for t in rows:
            click.echo(
                f"{t.id}  {t.case_no}  {t.name:<12}  due {_when(t.case_due_at)}  step due {_when(t.due_at)}  "
                f"{t.applicant}  {('claimed by ' + t.claimed_by) if t.claimed_by else ''}".rstrip()
            )

    emit([t.to_dict() for t in rows], as_json, text)
