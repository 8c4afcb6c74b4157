"""What a simulated clerk reads from the worklist's pages and types into the shipped forms: shared by
``http_clerks.py`` (Locust, over HTTP) and ``web_profile.py`` (in-process). Kept apart from both because
importing Locust patches the standard library for gevent, which the in-process profile must not get."""

from __future__ import annotations

import re

# A worklist row: task id, case number, who claimed it.
ROW = re.compile(r'<tr data-task-id="([^"]+)" data-case-no="([^"]+)"[^>]*>.*?data-claimed-by="([^"]*)"', re.S)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TASK_FORM = re.compile(r'<form[^>]*id="task-form".*?</form>', re.S)
FIELD = re.compile(r'name="([a-z_][a-z0-9_.]*)"')
# Canned answers by form field name: what a clerk types into the shipped forms (processes/, forms/).
ANSWERS: dict[str, str | list[str]] = {
    "materials_received": ["M01", "M02", "M03", "M04", "M05", "M06"],
    "negative_list": "false",
    "review_opinion": "材料齐全,符合备案条件",
    "conditions_met": "true",
    "co_opinion": "同意,无补充意见",
    "co_agree": "true",
    "decision": "approve",
    "seal_no": "510107-01",
    "document_no": "武审外备〔2026〕99号",
    "certificate_no": "WH-FI-2026-9999",
    "delivery": "window",
    "supplemented_materials": ["M03", "M05", "M06"],
    "supplement_note": "申请人当日补齐",
}


def answers_for(page: str) -> list[tuple[str, str]]:
    """The fields of the task page's form that the canned answers fill, as (name, value) pairs in name order
    (a list answer is one pair per ticked value, as a browser posts checkboxes)."""
    form = TASK_FORM.search(page)
    names = set(FIELD.findall(form.group(0))) if form else set()
    fields: list[tuple[str, str]] = []
    for name in sorted(names & ANSWERS.keys()):
        value = ANSWERS[name]
        fields += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return fields
