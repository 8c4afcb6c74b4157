"""The monthly 效能监察 report the bureau circulates: the sections' figures and the 千分制 ranking, as an
Excel workbook (openpyxl) or an A4 PDF (WeasyPrint, Noto CJK fonts as the documents use)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from .._documents.charts import bar_chart_svg
from .._errors import FieldError, ValidationError
from .._time.workcalendar import CHINA_TZ
from .efficiency import EfficiencyReport, SectionFigures
from .scores import ScoreReport

__all__ = ["FIGURE_COLUMNS", "check_output", "write_report"]

FIGURE_COLUMNS = (
    ("科室", "name"),
    ("受理", "received"),
    ("办结", "finished"),
    ("按时办结", "on_time"),
    ("按时率%", "on_time_rate"),
    ("平均工作日", "mean_days"),
    ("P90工作日", "p90_days"),
    ("当前超期", "overdue_now"),
    ("评价数", "ratings"),
    ("平均评分", "rating_average"),
    ("差评", "bad_ratings"),
    ("投诉", "complaints"),
    ("投诉属实", "complaints_upheld"),
    ("稽核问题", "findings"),
)
SCORE_COLUMNS = ("全局排名", "科室排名", "姓名", "用户名", "科室", "得分", "扣分/加分明细")


def _title(figures: EfficiencyReport, bureau: str) -> str:
    return f"{bureau}效能监察月报({figures.month})"


def _as_of(figures: EfficiencyReport) -> str:
    return f"统计月份 {figures.month};当前超期截至 {figures.as_of.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}(北京时间)"


def _cells(s: SectionFigures) -> list[object]:
    return [getattr(s, attr) for _, attr in FIGURE_COLUMNS]


def _score_rows(scores: ScoreReport, names: dict[str, str]) -> list[list[object]]:
    rows: list[list[object]] = []
    for p in scores.people:
        lines = ";".join(f"{x.rule_name}{x.points:+d}{(' ' + x.case_no) if x.case_no else ''}" for x in p.lines)
        section_rank = "、".join(f"{names.get(c, c)} 第{r}" for c, r in p.section_ranks.items())
        sections = "、".join(names.get(c, c) for c in p.sections)
        rows.append([p.bureau_rank, section_rank, p.display_name, p.username, sections, p.total, lines])
    return rows


def check_output(path: Path) -> None:
    if path.suffix.lower() not in (".xlsx", ".pdf"):
        raise ValidationError("report", [FieldError("output", f"{path.name}: must end in .xlsx or .pdf")])


def write_report(
    path: Path, figures: EfficiencyReport, scores: ScoreReport, *, bureau: str, sections: dict[str, str]
) -> Path:
    """Write the report as ``path``'s suffix says (.xlsx or .pdf); ``sections`` names the section codes."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _xlsx(path, figures, scores, bureau, sections)
    elif suffix == ".pdf":
        path.write_bytes(_pdf(figures, scores, bureau, sections))
    else:
        raise ValidationError("report", [FieldError("output", f"{path.name}: must end in .xlsx or .pdf")])
    return path


def _xlsx(path: Path, figures: EfficiencyReport, scores: ScoreReport, bureau: str, names: dict[str, str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "效能监察"
    sheet.append([_title(figures, bureau)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_as_of(figures)])
    sheet.append([name for name, _ in FIGURE_COLUMNS])
    for s in (*figures.sections, figures.bureau):
        sheet.append(_cells(s))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    ranking = book.create_sheet("千分制")
    ranking.append([f"千分制考核({scores.month}),起始分 {scores.start}"])
    ranking.append(list(SCORE_COLUMNS))
    for row in _score_rows(scores, names):
        ranking.append(row)
    for cell in ranking[2]:
        cell.font = Font(bold=True)
    ranking.column_dimensions["G"].width = 80
    book.save(path)


def _pdf(figures: EfficiencyReport, scores: ScoreReport, bureau: str, names: dict[str, str]) -> bytes:
    from weasyprint import HTML  # imported on first use: loading Pango takes a moment

    head = "".join(f"<th>{escape(name)}</th>" for name, _ in FIGURE_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in _cells(s)) + "</tr>"
        for s in (*figures.sections, figures.bureau)
    )
    labels = [s.name for s in figures.sections]
    chart = bar_chart_svg(
        "受理与办结",
        labels,
        [
            ("受理", [s.received for s in figures.sections]),
            ("办结", [s.finished for s in figures.sections]),
            ("当前超期", [s.overdue_now for s in figures.sections]),
        ],
        width=520,
    )
    scores_head = "".join(f"<th>{escape(c)}</th>" for c in SCORE_COLUMNS)
    scores_body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in _score_rows(scores, names)
    )
    html = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page {{ size: A4 landscape; margin: 15mm; }}
body {{ font-family: "Noto Sans CJK SC", sans-serif; font-size: 10pt; }}
h1 {{ font-family: "Noto Serif CJK SC", serif; font-size: 18pt; text-align: center; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 6mm; }}
th, td {{ border: 0.5pt solid #666; padding: 1mm 2mm; white-space: nowrap; }}
td:last-child {{ white-space: normal; }}
.chart {{ width: 140mm; }}
</style></head><body>
<h1>{escape(_title(figures, bureau))}</h1>
<p>{escape(_as_of(figures))}</p>
<table><tr>{head}</tr>{body}</table>
{chart}
<h2>千分制考核(起始分 {scores.start})</h2>
<table><tr>{scores_head}</tr>{scores_body}</table>
</body></html>"""
    return bytes(HTML(string=html).write_pdf())
