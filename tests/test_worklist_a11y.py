"""Accessibility that needs no browser: badge contrast from the stylesheet's colours, errors tied to their
fields, a skip link, and row buttons that say which case they act on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from onewindow.engine import Engine

from .helpers import FI, FI_APPLICANT, AuthActions, post, start_fi, text

CSS = (Path(__file__).resolve().parent.parent / "worklist" / "static" / "style.css").read_text(encoding="utf-8")


def colour(value: str) -> str:
    """A colour of style.css (a hex value or one of its ``--variables``) as six hex digits."""
    value = value.strip()
    while value.startswith("var("):
        name = value[4:-1]
        found = re.search(rf"{re.escape(name)}:\s*([^;]+);", CSS)
        assert found, name
        value = found.group(1).strip()
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), value
    return value[1:].lower()


def luminance(hex6: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex6[i : i + 2], 16) / 255) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rule(selector: str) -> dict[str, str]:
    found = re.search(rf"(?m)^{re.escape(selector)}\s*\{{([^}}]*)\}}", CSS)
    assert found, selector
    return {k.strip(): v.strip() for k, v in (d.split(":", 1) for d in found.group(1).split(";") if ":" in d)}


@pytest.mark.parametrize("level", ["green", "yellow", "red", "paused", "none"])
def test_badges_have_a_contrast_of_at_least_4_5(level: str) -> None:
    declared = rule(f".badge.{level}")
    text_colour = colour(declared["color"])
    background = colour(declared.get("background", "var(--card)"))  # a plain badge sits on a card
    assert contrast(text_colour, background) >= 4.5, (level, text_colour, background)


def test_contrast_is_computed_as_wcag_says() -> None:
    assert round(contrast("000000", "ffffff"), 1) == 21.0
    assert round(contrast("767676", "ffffff"), 2) == 4.54  # the lightest grey that passes on white


def test_errors_are_tied_to_their_fields(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("lijing")
    form: dict[str, object] = {f"applicant.{k}": str(v) for k, v in FI_APPLICANT.items()}
    form.update({"applicant.contact_mobile": "2345", "applicant.currency": ""})
    page = text(post(client, f"/intake/{FI}", form))
    mobile = re.search(r'<input id="f-applicant-contact_mobile"[^>]*>', page, re.S)
    assert mobile is not None and 'aria-invalid="true"' in mobile.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', mobile.group(0))
    assert described is not None
    assert "f-applicant-contact_mobile-error" in described.group(1).split()
    for part in described.group(1).split():
        assert f'id="{part}"' in page
    currency = re.search(r'<select id="f-applicant-currency"[^>]*>', page)
    assert currency is not None and "f-applicant-currency-error" in currency.group(0)
    untouched = re.search(r'<input id="f-applicant-enterprise_name"[^>]*>', page, re.S)
    assert untouched is not None and "aria-invalid" not in untouched.group(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_skip_link_and_row_buttons_name_the_case(
    client: FlaskClient, auth: AuthActions, sqlite_engine: Engine, lang: str
) -> None:
    case_no = start_fi(sqlite_engine)
    auth.login("lijing")
    post(client, "/lang", {"lang": lang})
    page = text(client.get("/"))
    assert re.search(r'<body[^>]*>\s*<a href="#main" class="skip-link', page) and 'id="main" tabindex="-1"' in page
    labels = re.findall(r'data-action="claim" aria-label="([^"]+)"', page)
    task = sqlite_engine.cases.show(case_no).open_tasks[0]
    assert task.name_en  # the English page names the step by the BPMN's name_en
    expected = f"认领:{task.name}({case_no})" if lang == "zh" else f"Claim: {task.name_en} ({case_no})"
    assert labels == [expected]
