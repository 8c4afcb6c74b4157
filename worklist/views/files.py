"""A case's materials as files for staff: view or download a version, and (at the intake window) add new
versions and record why a material must be handed in again. Access follows the case's: staff who may not
open the case get the same 404 as for a case that does not exist."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import (
    SITE_PHOTOS,
    FileRejectedError,
    FileView,
    MaterialSet,
    Matter,
    UserAccount,
    ValidationError,
)

from .. import get_engine
from ..errors import Refusal
from ..i18n import gettext as _
from ..security import current_user, safe_next
from ..uploads import file_response, refusal, uploads_from

bp = Blueprint("files", __name__, url_prefix="/cases")


def staff_file_url(f: FileView, download: bool = False) -> str:
    if download:
        return url_for("files.show", case_no=f.case_no, file_id=f.id, download="1")
    return url_for("files.show", case_no=f.case_no, file_id=f.id)


def files_context(case_no: str, back: str, files: MaterialSet | None, matter: Matter) -> dict[str, Any]:
    """What ``_files.html`` needs on a staff page (the caller read the page, so may open the case)."""
    patterns = get_engine().patterns.uploaders_of(matter)  # 多评合一's reports, 会审's minutes
    return {
        "files": files or get_engine().files.material_set(case_no),
        "file_url": staff_file_url,
        "can_upload": at_window(current_user())
        or at_inspection_centre(current_user())
        or any(set(current_user().sections) & who for who in patterns.values()),
        "upload_url": url_for("files.upload", case_no=case_no),
        "defects_url": url_for("files.defects", case_no=case_no),
        "back": back,
    }


def at_window(user: UserAccount) -> bool:
    window = {s.code for s in get_engine().bureau.sections if s.kind.value == "intake_window"}
    return bool(window & set(user.sections))


def at_inspection_centre(user: UserAccount) -> bool:
    """现场踏勘中心: its inspectors upload the site photos (material SITE), nothing else."""
    centre = {s.code for s in get_engine().bureau.sections if s.kind.value == "inspection_centre"}
    return bool(centre & set(user.sections))


@bp.get("/<case_no>/files/<int:file_id>")
def show(case_no: str, file_id: int) -> Response:
    engine = get_engine()
    engine.cases.check_access(current_user(), case_no)
    view, data = engine.files.read(case_no, file_id)
    return file_response(view, data, download=request.args.get("download") == "1")


def _back(case_no: str) -> str:
    return safe_next(request.form.get("next"), url_for("cases.show", case_no=case_no))


@bp.post("/<case_no>/files")
def upload(case_no: str) -> Response:
    """New versions of materials (scanned at the window, or a 补正 handed in on paper)."""
    engine = get_engine()
    user = current_user()
    engine.cases.check_access(user, case_no)
    material = request.form.get("material", "").strip()
    photos = material == SITE_PHOTOS.code and at_inspection_centre(user)
    # 多评合一's reports (the evaluation centre) and 会审's minutes (the lead section): engine.patterns.uploaders
    pattern = bool(get_engine().patterns.uploaders(case_no).get(material, frozenset()) & set(user.sections))
    if not at_window(user) and not photos and not pattern:
        raise Refusal(_("只有统一受理窗口的工作人员可以上传材料或登记材料问题。"), user=user.username)
    uploads = uploads_from(request.files, material=request.form.get("material", "").strip())
    if not uploads:
        flash(_("请先选择要上传的文件。"), "error")
        return redirect(_back(case_no))
    try:
        added = engine.files.add(case_no, uploads, actor=user.username)
    except FileRejectedError as err:
        flash(refusal(err) + " " + _("本次未保存任何文件。"), "error")
        return redirect(_back(case_no))
    flash(_("已上传 {n} 个文件。", n=len(added)), "ok")
    return redirect(_back(case_no))


@bp.post("/<case_no>/defects")
def defects(case_no: str) -> Response:
    """The window's reason per material (``defect.<code>``), for the 一次性告知书."""
    engine = get_engine()
    user = current_user()
    engine.cases.check_access(user, case_no)
    if not at_window(user):
        raise Refusal(_("只有统一受理窗口的工作人员可以上传材料或登记材料问题。"), user=user.username)
    reasons = {k.removeprefix("defect."): v for k, v in request.form.items() if k.startswith("defect.") and v.strip()}
    if request.form.get("material") and request.form.get("reason", "").strip():
        reasons[request.form["material"].strip()[:32]] = request.form["reason"]
    if not reasons:
        flash(_("请填写补正原因。"), "error")
        return redirect(_back(case_no))
    try:
        engine.files.record_defects(case_no, reasons, actor=user.username)
    except ValidationError:
        flash(_("补正原因不可接受(每项不超过 500 字,且须为本事项的材料)。"), "error")
        return redirect(_back(case_no))
    flash(_("已记录补正原因。"), "ok")
    return redirect(_back(case_no))
