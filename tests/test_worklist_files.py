"""Materials as files in the worklist: scanned at intake, the same set on every section's task page,
served so a browser never runs them, 404 for staff who may not open the case, refusals in Chinese."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from onewindow.engine import Engine, FileLimits

from .file_samples import HTML_AS_PDF, pdf, png
from .helpers import FI, FI_APPLICANT, AuthActions, ids, open_tasks, post, text

URL = f"/intake/{FI}"
ALL = ["M01", "M02", "M03", "M04", "M05", "M06"]


def application(**extra: object) -> dict[str, object]:
    form: dict[str, object] = {f"applicant.{k}": str(v) for k, v in FI_APPLICANT.items()}
    form["check.negative_list"] = "false"
    form.update(extra)
    return form


def file_field(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def register(client: FlaskClient, **extra: object) -> str:
    response = post(client, URL, application(**extra), content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    found = re.search(r"/cases/([^/]+)/", response.location)
    assert found
    return found.group(1)


def case_total(engine: Engine) -> int:
    return engine.cases.page_for(engine.users.get("huangqiang")).total


def test_scanned_at_intake_shown_on_every_reviewing_sections_task_page(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    uploads = {f"file.{code}": file_field(pdf(f"material {code}"), f"{code}.pdf") for code in ALL if code != "M02"}
    case_no = register(client, **uploads, **{"file.M02": file_field(png(), "身份证.png")})
    assert sqlite_engine.cases.show(case_no).summary.status == "accepted"  # uploading counts as handed in
    auth.logout()
    tasks = open_tasks(sqlite_engine, case_no)
    for user, bpmn_id in (
        ("zhangwei", "Task_LeadReview"),
        ("chenjie", "Task_InvestmentCoReview"),
        ("zhaomin", "Task_FinanceCoReview"),
    ):
        auth.login(user)
        page = text(client.get(f"/tasks/{tasks[bpmn_id].id}"))
        section = page.split('id="material-files"')[1].split("</section>")[0]
        assert ids(section, "data-material") == ALL
        assert 'class="pdf-frame"' in section and 'class="file-image"' in section  # the inline viewer
        assert "身份证.png" in section and "李静" in section  # who uploaded what
        assert 'id="files-upload"' not in section  # only the window adds versions
        auth.logout()


def test_files_are_served_with_their_type_disposition_nosniff_and_a_sandbox(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    case_no = register(client, **{"file.M01": file_field(pdf(), "营业执照 副本.pdf")})
    f = sqlite_engine.files.material_set(case_no).of("M01").latest  # type: ignore[union-attr]
    assert f is not None
    inline = client.get(f"/cases/{case_no}/files/{f.id}")
    assert inline.status_code == 200 and inline.data == pdf()
    assert inline.mimetype == "application/pdf"
    assert inline.headers["X-Content-Type-Options"] == "nosniff"
    assert inline.headers["Content-Disposition"].startswith('inline; filename="')
    assert "filename*=UTF-8''%E8%90%A5" in inline.headers["Content-Disposition"]
    # Chromium's PDF viewer does not start in a sandboxed document: an inline PDF has a strict CSP without it
    csp = inline.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
    download = client.get(f"/cases/{case_no}/files/{f.id}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    scan = post(
        client, f"/cases/{case_no}/files", {"material": "M02", "file": file_field(png(), "id.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert scan.status_code == 302
    image = sqlite_engine.files.material_set(case_no).of("M02").latest  # type: ignore[union-attr]
    assert image is not None
    shown = client.get(f"/cases/{case_no}/files/{image.id}")
    assert shown.mimetype == "image/png" and shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Security-Policy"].endswith("; sandbox")
    assert client.get(f"/cases/{case_no}/files/{f.id + 100}").status_code == 404


def test_staff_of_other_sections_get_the_404_of_a_missing_case(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    case_no = register(client, **{"file.M01": file_field(pdf(), "a.pdf")})
    f = sqlite_engine.files.material_set(case_no).of("M01").latest  # type: ignore[union-attr]
    assert f is not None
    auth.logout()
    auth.login("sunli")  # market section: nothing to do with a foreign-investment filing
    hidden = client.get(f"/cases/{case_no}/files/{f.id}")
    missing = client.get(f"/cases/WH-2026-999999/files/{f.id}")
    assert hidden.status_code == missing.status_code == 404
    assert b"%PDF" not in hidden.data
    sent = post(client, f"/cases/{case_no}/files", {"material": "M01", "file": file_field(pdf("x"), "x.pdf")})
    assert sent.status_code == 404
    assert len(sqlite_engine.files.material_set(case_no).files) == 1


def test_bad_files_at_intake_one_message_in_chinese_and_no_case(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    sqlite_engine.files.limits = FileLimits(max_file_bytes=2000, max_case_bytes=4000)
    auth.login("lijing")
    cases = [
        (file_field(HTML_AS_PDF, "licence.pdf"), "不是与其名称相符的 PDF、JPEG 或 PNG 文件"),
        (file_field(b"", "empty.pdf"), "是空文件"),
        (file_field(pdf() + b"%" + b"x" * 3000, "big.pdf"), "超过单个文件"),
        (file_field(pdf(), "../../x.pdf"), "文件名中不能含有路径"),
    ]
    for upload, message in cases:
        response = post(
            client, URL, application(**{"file.M01": upload, "check.materials_received": ALL}),
            content_type="multipart/form-data",
        )  # fmt: skip
        assert response.status_code == 400
        page = text(response)
        assert message in page and "本次未登记任何办件" in page
        assert case_total(sqlite_engine) == 0
    assert not [p for p in sqlite_engine.files.store.root.rglob("*") if p.is_file()]  # type: ignore[attr-defined]


def test_a_body_over_the_case_limit_is_a_413_with_the_limits(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    sqlite_engine.files.limits = FileLimits(max_file_bytes=1000, max_case_bytes=1000)
    auth.login("lijing")
    huge = pdf() + b"%" + b"x" * (1024 * 1024 + 5000)
    response = post(
        client, URL, application(**{"file.M01": file_field(huge, "huge.pdf")}), content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "每件办件的材料合计不超过" in text(response)
    assert case_total(sqlite_engine) == 0


def test_defect_reasons_on_the_one_time_notice_and_a_supplement_version_at_the_window(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    case_no = register(
        client,
        **{
            "file.M02": file_field(png(), "id.png"),
            "defect.M02": "身份证复印件模糊,无法辨认",
            "check.materials_received": ["M01", "M02", "M03", "M04", "M06"],
        },
    )
    notice = text(client.get(f"/cases/{case_no}/notice"))
    table = notice.split('id="missing-materials"')[1].split("</table>")[0]
    assert ids(table, "data-material") == ["M02"]  # ticked, but the reason makes it not received
    assert "身份证复印件模糊,无法辨认" in table
    task = open_tasks(sqlite_engine, case_no)["Task_Supplement"]
    page = text(client.get(f"/tasks/{task.id}"))
    assert 'id="files-upload"' in page and 'data-defect="yes"' in page
    sent = post(
        client, f"/cases/{case_no}/files",
        {"material": "M02", "file": file_field(png(rgb=(0, 0, 0)), "id-clear.png"), "next": f"/tasks/{task.id}"},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert sent.status_code == 302 and sent.location == f"/tasks/{task.id}"
    m02 = sqlite_engine.files.material_set(case_no).of("M02")
    assert m02 is not None and [f.version for f in m02.versions] == [2, 1] and m02.defect is None
    refused = post(
        client, f"/cases/{case_no}/files", {"material": "M02", "file": file_field(HTML_AS_PDF, "x.png")},
        content_type="multipart/form-data", follow_redirects=True,
    )  # fmt: skip
    assert "不是与其名称相符" in text(refused) and "本次未保存任何文件" in text(refused)
    assert len(sqlite_engine.files.material_set(case_no).files) == 2


def test_the_window_records_a_defect_reason_on_the_task_page(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine
) -> None:
    auth.login("lijing")
    case_no = register(client, **{"file.M01": file_field(pdf(), "a.pdf"), "check.materials_received": ["M01"]})
    task = open_tasks(sqlite_engine, case_no)["Task_Supplement"]
    sent = post(
        client, f"/cases/{case_no}/defects", {"material": "M01", "reason": "申报表未签字", "next": f"/tasks/{task.id}"}
    )
    assert sent.status_code == 302 and sent.location == f"/tasks/{task.id}"
    items = {i.material.code: i.reason for i in sqlite_engine.files.notice_items(case_no)}
    assert items["M01"] == "申报表未签字"
    assert "申报表未签字" in text(client.get(f"/tasks/{task.id}"))
    empty = post(client, f"/cases/{case_no}/defects", {"material": "M01", "reason": "  "}, follow_redirects=True)
    assert "请填写补正原因" in text(empty)
    long = post(client, f"/cases/{case_no}/defects", {"material": "M01", "reason": "长" * 501}, follow_redirects=True)
    assert "补正原因不可接受" in text(long)
    auth.logout()
    auth.login("zhangwei")  # not at the window (and the case is not his section's yet)
    assert post(client, f"/cases/{case_no}/defects", {"material": "M01", "reason": "x"}).status_code == 404
