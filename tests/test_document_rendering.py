"""Documents rendered after the step's commit: the step numbers them and fixes what they print (digested in
its history event); the renderer (``onewindow documents render``) or the first download makes the signed PDF,
once; renderers sharing a database lease their batches."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sqlalchemy import select

from onewindow.engine import Engine, EventKind, FixedClock
from onewindow.engine._store.document_models import DocumentRow

from .helpers import ALL_FI_MATERIALS, OnewindowRunner, make_engine, open_tasks, start_fi
from .test_documents import approve_fi, text_of


def _rows(engine: Engine) -> list[DocumentRow]:
    with engine.db.reading() as session:
        return list(session.scalars(select(DocumentRow).order_by(DocumentRow.id)))


def _accept(engine: Engine) -> str:
    case_no = start_fi(engine)
    t = open_tasks(engine, case_no)
    engine.tasks.complete(
        t["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ALL_FI_MATERIALS, "negative_list": False},
    )
    return case_no


def test_a_step_issues_without_rendering_and_its_event_binds_the_content(sqlite_engine: Engine) -> None:
    case_no = _accept(sqlite_engine)
    [row] = _rows(sqlite_engine)
    assert row.rendered_at is None and row.sha256 is None and row.size == 0
    assert row.number.startswith("武审批受")
    with sqlite_engine.db.reading() as session:
        spec = session.scalar(select(DocumentRow.render_input).where(DocumentRow.id == row.id))
    assert spec is not None and spec["number"] == row.number and spec["case"]["case_no"] == case_no
    canonical = json.dumps(spec, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    issued = [e for e in sqlite_engine.cases.show(case_no).history if e.kind == EventKind.DOCUMENT_ISSUED]
    assert [e.data["content_sha256"] for e in issued] == [hashlib.sha256(canonical).hexdigest()]
    assert sqlite_engine.documents.pending_count() == 1
    assert sqlite_engine.documents.get(row.number).sha256 == ""  # listed at once, its file still to come

    assert sqlite_engine.documents.render_pending() == 1
    assert sqlite_engine.documents.pending_count() == 0
    pdf = sqlite_engine.documents.pdf(row.number)
    assert row.number in text_of(pdf) and case_no in text_of(pdf)
    view = sqlite_engine.documents.get(row.number)
    assert view.sha256 == hashlib.sha256(pdf).hexdigest() and view.size == len(pdf)
    assert sqlite_engine.documents.verify(pdf).ok
    assert sqlite_engine.documents.render_pending() == 0  # rendered once, for good


def test_a_download_before_the_renderer_renders_once_and_the_renderer_skips_it(sqlite_engine: Engine) -> None:
    case_no = start_fi(sqlite_engine)
    approve_fi(sqlite_engine, case_no)
    numbers = [r.number for r in _rows(sqlite_engine)]
    assert len(numbers) == 3 and all(r.rendered_at is None for r in _rows(sqlite_engine))
    first = sqlite_engine.documents.pdf(numbers[-1])  # the applicant downloads before any renderer ran
    assert sqlite_engine.documents.pdf(numbers[-1]) == first  # a reprint is the same bytes
    assert sqlite_engine.documents.render_pending(limit=100) == len(numbers) - 1
    assert sqlite_engine.documents.pdf(numbers[-1]) == first
    assert all(r.rendered_at is not None and r.sha256 for r in _rows(sqlite_engine))


def test_renderers_lease_their_batch_and_a_dead_renderers_lease_runs_out(database_url: str, clock: FixedClock) -> None:
    """Two renderers on one database: the second finds the first's batch leased; when the first dies (its
    lease runs out with nothing rendered), the second takes the batch over."""
    first = make_engine(database_url, clock)
    second = make_engine(database_url, clock, deploy=False)
    case_no = start_fi(first)
    approve_fi(first, case_no)
    waiting = first.documents.pending_count()
    assert waiting == 3
    with first.db.writing() as session:  # renderer one claims everything, then dies before rendering
        for row in session.scalars(select(DocumentRow)):
            row.render_lease_until = clock.now() + timedelta(minutes=5)
    assert second.documents.render_pending(limit=100) == 0
    clock.advance(timedelta(minutes=6))
    assert second.documents.render_pending(limit=100) == waiting
    assert second.documents.pending_count() == 0
    digests = {r.sha256 for r in _rows(second)}
    assert len(digests) == waiting and None not in digests


def test_cli_render_once_reports_and_metrics_count_the_queue(runner: OnewindowRunner, sqlite_engine: Engine) -> None:
    _accept(sqlite_engine)
    gauges = {g.name: g for g in sqlite_engine.health.gauges()}
    assert gauges["onewindow_documents_unrendered"].samples == {(): 1.0}
    result = runner.run("documents", "render", "--once")
    assert result.exit_code == 0, result.output
    assert "rendered 1" in result.output and "1 rendered, 0 waiting" in result.output
    gauges = {g.name: g for g in sqlite_engine.health.gauges()}
    assert gauges["onewindow_documents_unrendered"].samples == {(): 0.0}
    assert "documents" in {r.kind for r in sqlite_engine.health.runners()}


def test_an_upgrade_keeps_issued_documents_and_their_seal_register(database_url: str, clock: FixedClock) -> None:
    """A bureau at the release before 0023 with documents, seal records and a delivery (rows that point at
    documents): the upgrade (on SQLite a copy of the table) keeps them all and marks them rendered."""
    from onewindow.engine import Database

    from .test_step_log import downgrade

    engine = make_engine(database_url, clock)
    case_no = start_fi(engine)
    approve_fi(engine, case_no)
    engine.documents.render_pending(limit=100)
    before = {r.number: (r.sha256, r.size) for r in _rows(engine)}
    seals_before = engine.documents.seal_log()
    engine.close()
    db = Database(database_url)
    downgrade(db, "0020")
    db.upgrade()
    db.dispose()
    upgraded = make_engine(database_url, clock, deploy=False)
    rows = _rows(upgraded)
    assert {r.number: (r.sha256, r.size) for r in rows} == before
    assert all(r.rendered_at == r.issued_at for r in rows)
    assert upgraded.documents.seal_log() == seals_before
    assert upgraded.documents.delivery(case_no) is not None
    for number in before:
        assert upgraded.documents.verify(upgraded.documents.pdf(number)).ok
