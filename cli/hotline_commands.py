"""``onewindow hotline add|answer|list``: the 96166 register of consultations and complaints."""

from __future__ import annotations

import click

from onewindow.engine import HOTLINE_CHANNELS, HOTLINE_KINDS, HotlineView

from .app import AppContext, cli, domain_errors, emit, json_option, pass_app


@cli.group()
def hotline() -> None:
    """96166: consultations and complaints by phone, at a window or online, and their answers."""


def _line(r: HotlineView, status: str) -> str:
    about = " ".join(x for x in (r.case_no, r.window and f"窗口{r.window}", r.clerk) if x) or "-"
    due = f"due {r.due_at:%Y-%m-%d %H:%M} ({status})" if r.due_at and r.open else ""
    state = (
        "open" if r.open else ("answered" + ("" if r.upheld is None else (", upheld" if r.upheld else ", not upheld")))
    )
    line = f"{r.id:>5}  {r.at:%Y-%m-%d %H:%M}  {r.channel:<6} {r.kind:<12} {r.caller:<10} {about:<24} {state} {due}"
    return line.rstrip()


@hotline.command("add")
@click.option("--channel", type=click.Choice(list(HOTLINE_CHANNELS)), required=True)
@click.option("--caller", required=True, help="Who called or came.")
@click.option("--text", "text_", required=True, help="What was asked or complained of.")
@click.option("--kind", type=click.Choice(list(HOTLINE_KINDS)), default="consultation", show_default=True)
@click.option("--matter", default=None, help="The matter it concerns (its key).")
@click.option("--case", "case_no", default=None, help="The case it concerns.")
@click.option("--window", default=None, help="The window it concerns.")
@click.option("--clerk", default=None, help="The clerk it concerns (an account).")
@click.option("--assign", "assigned_to", default=None, help="Who answers (default: the section's chief).")
@click.option("--answer", default=None, help="A consultation's answer given on the spot.")
@click.option("--user", required=True, envvar="ONEWINDOW_USER", help="The account logging it.")
@json_option
@pass_app
@domain_errors
def hotline_add(
    app: AppContext,
    channel: str,
    caller: str,
    text_: str,
    kind: str,
    matter: str | None,
    case_no: str | None,
    window: str | None,
    clerk: str | None,
    assigned_to: str | None,
    answer: str | None,
    user: str,
    as_json: bool,
) -> None:
    """Log a consultation or complaint (a complaint about a case, window or clerk gets a reply limit)."""
    engine = app.engine()
    r = engine.hotline.add(
        channel=channel, caller=caller, text=text_, kind=kind, matter=matter, case_no=case_no, window=window,
        clerk=clerk, assigned_to=assigned_to, answer=answer, user=user,
    )  # fmt: skip
    emit(r.to_dict(), as_json, lambda: click.echo(_line(r, engine.deadline_status(r.due_at).level)))


@hotline.command("answer")
@click.argument("record_id", type=click.IntRange(min=1))
@click.option("--text", "text_", required=True, help="The answer.")
@click.option("--upheld/--not-upheld", default=None, help="A complaint's decision: upheld (属实) or not.")
@click.option("--user", required=True, envvar="ONEWINDOW_USER", help="The account answering.")
@json_option
@pass_app
@domain_errors
def hotline_answer(app: AppContext, record_id: int, text_: str, upheld: bool | None, user: str, as_json: bool) -> None:
    """Answer a record; a complaint needs --upheld or --not-upheld."""
    r = app.engine().hotline.answer(record_id, text=text_, upheld=upheld, user=user)
    emit(r.to_dict(), as_json, lambda: click.echo(_line(r, "")))


@hotline.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only those not answered, the earliest due first.")
@click.option("--month", default=None, help="YYYY-MM (China time).")
@json_option
@pass_app
@domain_errors
def hotline_list(app: AppContext, open_only: bool, month: str | None, as_json: bool) -> None:
    """The register, newest first (with --open: open ones, yellow/red by their reply limit)."""
    engine = app.engine()
    rows = engine.hotline.list(open_only=open_only, month=month)
    data = [{**r.to_dict(), "deadline": engine.deadline_status(r.due_at).level if r.open else None} for r in rows]

    def text() -> None:
        for r in rows:
            click.echo(_line(r, engine.deadline_status(r.due_at).level))

    emit(data, as_json, text)
