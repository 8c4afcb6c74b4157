"""Materials uploaded through a form: the request limits of the upload pages, reading the files of a
request, the message for a refused file, and serving a stored file so a browser never runs it.

The app refuses bodies over 1 MB (``MAX_CONTENT_LENGTH``); the pages that take files (registered in
``UPLOAD_ENDPOINTS``) accept up to the case's file limit plus room for the form. A stored file is served
with its checked type, ``X-Content-Type-Options: nosniff``, a ``Content-Disposition`` naming it and a
sandboxing CSP: an uploaded "PDF" that is really HTML is refused at upload (magic bytes), and even a file
that slipped through could not run script on this site.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.datastructures.file_storage import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from onewindow.engine import FileRejectedError, FileView, Upload

from . import get_engine
from .api.problems import is_api_request, problem
from .i18n import gettext as _

__all__ = ["UPLOAD_ENDPOINTS", "file_response", "init_app", "refusal", "uploads_from"]

UPLOAD_ENDPOINTS: set[str] = {"intake.register", "files.upload", "applicant.save", "applicant.supplement"}
FORM_ROOM = 1024 * 1024  # the form's other fields beside the files

# Served files may be shown in a frame of this site's pages (the viewer), never elsewhere; nothing in them
# runs (``sandbox``) and they load nothing.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
# Chromium refuses to start its PDF viewer in a sandboxed document (no sandbox token re-enables it), so a PDF
# shown inline goes without ``sandbox``: its type is pinned (checked magic bytes, nosniff) so it is never read
# as a page of the site, and the viewer runs apart from the site's pages. Downloads keep the sandbox.
INLINE_PDF_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.3g}"


def _raise_limit() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = get_engine().files.limits.max_case_bytes + FORM_ROOM


def _too_large(_err: RequestEntityTooLarge) -> tuple[str, int] | Response:
    limits = get_engine().files.limits
    detail = _(
        "上传的内容过大:每个文件不超过 {file} MB,每件办件的材料合计不超过 {case} MB。",
        file=_mb(limits.max_file_bytes),
        case=_mb(limits.max_case_bytes),
    )
    if is_api_request():
        return problem("too_large", detail)
    return render_template("errors/error.html", status=413, detail=detail), 413


def init_app(app: Flask) -> None:
    """Register before the input guard, which reads the form (and so the body) of every POST."""
    app.before_request(_raise_limit)
    app.register_error_handler(RequestEntityTooLarge, _too_large)


def uploads_from(files: MultiDict[str, FileStorage], *, material: str = "") -> list[Upload]:
    """Every file of the fields ``file.<material code>`` (several files each), and of the field ``file``
    for ``material``; a field left empty by the browser (no file chosen) is skipped, an empty file that
    was chosen is kept (and refused)."""
    limit = get_engine().files.limits.max_file_bytes
    out = []
    for name, storage in files.items(multi=True):
        code = name.removeprefix("file.") if name.startswith("file.") else material if name == "file" else ""
        if not code or not storage.filename:
            continue
        data = storage.stream.read(limit + 1)  # one byte over is enough to refuse it
        out.append(Upload(code[:32], storage.filename, data))
    return out


def refusal(err: FileRejectedError) -> str:
    """One sentence in Chinese for a refused file."""
    limits = get_engine().files.limits
    name = err.filename[:80]
    messages = {
        "empty": _("文件“{name}”是空文件,请重新选择。", name=name),
        "too_large": _("文件“{name}”超过单个文件 {mb} MB 的上限。", name=name, mb=_mb(limits.max_file_bytes)),
        "case_too_large": _("本办件的材料合计将超过 {mb} MB 的上限,未保存。", mb=_mb(limits.max_case_bytes)),
        "type": _("文件“{name}”不是与其名称相符的 PDF、JPEG 或 PNG 文件。", name=name),
        "name": _("文件名“{name}”不可接受:文件名中不能含有路径或控制字符。", name=name),
        "material": _("材料“{code}”不属于本事项。", code=err.material[:40]),
    }
    return messages.get(err.reason, _("文件“{name}”未被接受。", name=name))


def file_response(view: FileView, data: bytes, *, download: bool) -> Response:
    """The stored bytes under their checked type; never sniffed, never run, named for a download."""
    disposition = "attachment" if download else "inline"
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in view.filename)[:100]
    response = Response(data, mimetype=view.content_type)
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name or 'file'}\"; filename*=UTF-8''{quote(view.filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    inline_pdf = not download and view.content_type == "application/pdf"
    response.headers["Content-Security-Policy"] = INLINE_PDF_CSP if inline_pdf else FILE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["ETag"] = f'"{view.sha256}"'
    return response
