"""统一受理 at the window: register an application, check its materials against the matter's list, and
hand the applicant either a 一次性告知 notice of every missing material or the acceptance receipt."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onewindow.engine import (
    CaseStatus,
    FieldError,
    FileRejectedError,
    UserAccount,
    ValidationError,
)

from .. import get_engine
from ..errors import Refusal, error_page
from ..forms import build_fields, errors_by_field, field_paths, parse_form, with_schema_errors
from ..i18n import current_lang
from ..i18n import gettext as _
from ..points import level_name, point_name
from ..security import current_user
from ..templating import matter_name, matters
from ..uploads import refusal, uploads_from

bp = Blueprint("intake", __name__)

MATERIALS_FIELD = "materials_received"


def _prefixed(prefix: str, err: FieldError) -> FieldError:
    return FieldError(f"{prefix}.{err.field}", err.message, err.title)


def _window_member(user: UserAccount) -> None:
    window = {s.code for s in get_engine().bureau.sections if s.kind.value == "intake_window"}
    if not window & set(user.sections):
        raise Refusal(_("只有统一受理窗口的工作人员可以接件。"), user=user.username)


def _point_level(user: UserAccount) -> str:
    point = get_engine().bureau.point(user.point)
    return point.level if point is not None else "district"


@bp.get("/intake")
def choose() -> str:
    user = current_user()
    _window_member(user)
    level = _point_level(user)
    # follow-up work starts from its case, not here; a point lists the matters handled at its level (三级下沉)
    public = [m for m in matters().values() if not m.internal and level in m.service_levels]
    return render_template("intake/choose.html", matters=public, point_level=level)


def _forms(matter_key: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    engine = get_engine()
    matter, forms = engine.repository.matter(matter_key)
    empty: dict[str, Any] = {"type": "object", "properties": {}}
    application = forms.get(matter.application_form or "", empty)
    check_form = engine.cases.intake_form(matter_key)
    return matter, application, forms.get(check_form or "", empty)


def _render(
    matter_key: str,
    shown: dict[str, Any],
    errors: dict[str, dict[str, str]],
    status: int = 200,
    *,
    defects: dict[str, str] | None = None,
    files_error: str = "",
) -> tuple[str, int]:
    matter, application, check = _forms(matter_key)
    check_shown = shown.get("check", {})
    page = render_template(
        "intake/form.html",
        matter=matter,
        applicant_fields=build_fields(
            application, shown.get("applicant", {}), errors.get("applicant"), prefix="applicant.", lang=current_lang()
        ),
        check_fields=build_fields(
            check, check_shown, errors.get("check"), prefix="check.", exclude=[MATERIALS_FIELD], lang=current_lang()
        ),
        has_materials=MATERIALS_FIELD in (check.get("properties") or {}),
        ticked=set(check_shown.get(MATERIALS_FIELD) or []),
        materials_error=(errors.get("check") or {}).get(MATERIALS_FIELD),
        defects=defects or {},
        files_error=files_error,
        form_errors=[e for part in errors.values() for k, e in part.items() if k == ""],
    )
    return page, status


@bp.get("/intake/<matter_key>")
def form(matter_key: str) -> tuple[str, int]:
    user = current_user()
    _window_member(user)
    matter = get_engine().repository.matter(matter_key)[0]
    if _point_level(user) not in matter.service_levels:  # the same line the registration would be refused with
        levels = "、".join(level_name(level) for level in matter.service_levels)
        message = _(
            "{matter}不在{level}级服务点办理({point}),办理层级: {levels}",
            matter=matter_name(matter),
            level=level_name(_point_level(user)),
            point=point_name(user.point),
            levels=levels,
        )
        return _render(matter_key, {}, {"check": {"": message}}, status=409)
    return _render(matter_key, {}, {})


@bp.post("/intake/<matter_key>")
def register(matter_key: str) -> Response | tuple[str, int]:
    user = current_user()
    _window_member(user)
    _matter, application, check = _forms(matter_key)
    applicant, applicant_shown, applicant_problems = parse_form(application, request.form, prefix="applicant.")
    check_data, check_shown, check_problems = parse_form(check, request.form, prefix="check.")
    shown = {"applicant": applicant_shown, "check": check_shown}
    engine = get_engine()
    uploads = uploads_from(request.files)
    defects = {
        k.removeprefix("defect."): v.strip()[:500]
        for k, v in request.form.items()
        if k.startswith("defect.") and v.strip()
    }
    if MATERIALS_FIELD in (check.get("properties") or {}):
        # A scanned material counts as received unless the window wrote why it is not acceptable.
        ticked = [m for m in check_data.get(MATERIALS_FIELD) or [] if isinstance(m, str)]
        received = [*ticked, *(u.material for u in uploads if u.material not in ticked)]
        check_data[MATERIALS_FIELD] = list(dict.fromkeys(m for m in received if m not in defects))
        check_shown[MATERIALS_FIELD] = check_data[MATERIALS_FIELD]
    try:
        if applicant_problems or check_problems:
            raise ValidationError(
                "intake",
                [
                    *(
                        _prefixed("applicant", e)
                        for e in with_schema_errors(application, applicant, applicant_problems)
                    ),
                    *(_prefixed("check", e) for e in with_schema_errors(check, check_data, check_problems)),
                ],
            )
        result = engine.cases.intake(
            matter_key, applicant, check_data, actor=user.username, uploads=uploads, defects=defects
        )
    except FileRejectedError as err:
        flash(_("请更正标出的内容;本次未登记任何办件。"), "error")
        message = refusal(err) + " " + _("请重新选择文件。")
        return _render(matter_key, shown, {}, status=400, defects=defects, files_error=message)
    except ValidationError as err:
        errors = {
            "applicant": errors_by_field(
                [e for e in err.errors if e.field.startswith("applicant.")],
                field_paths(application),
                strip="applicant.",
                lang=current_lang(),
            ),
            "check": errors_by_field(
                [e for e in err.errors if e.field.startswith("check.")],
                field_paths(check),
                strip="check.",
                lang=current_lang(),
            ),
        }
        other = [e.message for e in err.errors if not e.field.startswith(("applicant.", "check."))]
        if other:
            errors["check"][""] = "; ".join(other)
        flash(_("请更正标出的内容;本次未登记任何办件。"), "error")
        return _render(matter_key, shown, errors, status=400, defects=defects)
    case_no = result.summary.case_no
    if result.summary.status == CaseStatus.SUPPLEMENT:
        flash(_("办件 {case} 已登记;必备材料不全,请出具一次性告知书。", case=case_no), "warn")
        return redirect(url_for("intake.notice", case_no=case_no))
    if result.summary.status == CaseStatus.ACCEPTED:
        flash(_("办件 {case} 已受理。", case=case_no), "ok")
        return redirect(url_for("intake.receipt", case_no=case_no))
    flash(_("办件 {case} 已登记。", case=case_no), "ok")
    return redirect(url_for("cases.show", case_no=case_no))


@bp.get("/cases/<case_no>/notice")
def notice(case_no: str) -> str:
    """一次性告知书: every missing required material, at once (行政许可法 Art. 32)."""
    engine = get_engine()
    user = current_user()
    engine.cases.check_access(user, case_no)
    case = engine.cases.show(case_no)
    return render_template(
        "intake/notice.html",
        case=case.summary,
        status=engine.cases.materials(case_no),
        items=engine.files.notice_items(case_no),
        query_code=case.query_code,
        actions=[t for t in case.open_tasks if t.section in user.sections],
        now=engine.clock.now(),
    )


@bp.get("/cases/<case_no>/receipt")
def receipt(case_no: str) -> str | tuple[str, int]:
    """受理通知书 with the committed due date (承诺办结时间)."""
    engine = get_engine()
    engine.cases.check_access(current_user(), case_no)
    case = engine.cases.show(case_no)
    if case.summary.accepted_at is None:
        status = _(case.summary.status_label)
        return error_page(409, _("办件 {case} 尚未受理(现为{status}),还没有受理通知书。", case=case_no, status=status))
    return render_template(
        "intake/receipt.html", case=case.summary, status=engine.cases.materials(case_no), query_code=case.query_code
    )
