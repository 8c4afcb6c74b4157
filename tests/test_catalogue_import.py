"""``onewindow catalogue import`` / ``stats``: the bureau's 事项清单 as CSV or XLSX becomes deployed matters
on the process templates; bad tables are refused whole, one line per bad cell."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from onewindow.cli.main import cli
from onewindow.engine import CaseStatus, DeploymentError, Engine, FixedClock
from onewindow.engine._config.bureau import load_bureau
from onewindow.engine._config.catalogue_table import COLUMNS, REFERENCE_BINDINGS, reference_template
from onewindow.engine._store.db import Database
from onewindow.worklist import create_app

from .helpers import BPMNLINT, open_tasks

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
HEADER = [*COLUMNS, "时限依据"]
APPLICANT = {"applicant_name": "成都某某商贸有限公司", "contact_name": "王五", "contact_mobile": "13800138000"}
# One row per template; the 200-matter catalogue repeats them with new codes.
# (a code of its own: 0001180020, the shipped individual_business_registration, would win over the row)
ROWS = [
    {
        "事项名称": "个体工商户设立登记",
        "基本编码": "0001180030",
        "实施编码": "510107000118003000",
        "事项类型": "行政许可",
        "实施主体": "成都市武侯区行政审批局",
        "来源部门": "区市场监督管理局",
        "是否划转": "划转",
        "服务层级": "区;街道;社区",
        "办件类型": "即办件",
        "法定时限": "3个工作日",
        "承诺时限": "即办",
        "主办科室": "市场准入审批科",
        "协办科室": "",
        "监管部门": "武侯区市场监督管理局",
        "办件模板": "即办件",
        "材料": "申请书;经营者身份证明",
        "时限依据": "《市场主体登记管理条例》第十九条",
    },
    {
        "事项名称": "代理记账许可",
        "基本编码": "0001200010",
        "实施编码": "510107000120001000",
        "事项类型": "01",
        "实施主体": "成都市武侯区行政审批局",
        "来源部门": "区财政局",
        "是否划转": "划转",
        "服务层级": "区",
        "办件类型": "承诺件",
        "法定时限": "20个工作日",
        "承诺时限": "10个工作日",
        "主办科室": "finance",
        "协办科室": "",
        "监管部门": "finance_bureau",
        "办件模板": "window_approval",
        "材料": "申请表;办公场所证明",
        "时限依据": "《行政许可法》第四十二条",
    },
    {
        "事项名称": "企业投资项目核准",
        "基本编码": "0001150010",
        "实施编码": "510107000115001000",
        "事项类型": "行政许可",
        "实施主体": "成都市武侯区行政审批局",
        "来源部门": "区投资促进局",
        "是否划转": "保留",
        "服务层级": "区",
        "办件类型": "承诺件",
        "法定时限": "20个工作日",
        "承诺时限": "15个工作日",
        "主办科室": "投资促进审批科",
        "协办科室": "商务审批科;市场准入审批科",
        "监管部门": "武侯区投资促进局",
        "办件模板": "joint_review",
        "材料": "项目申请报告;选址意见书;用地预审意见",
        "时限依据": "未核实",
    },
    {
        "事项名称": "食品经营许可",
        "基本编码": "0001300010",
        "实施编码": "510107000130001000",
        "事项类型": "行政确认",
        "实施主体": "成都市武侯区行政审批局",
        "来源部门": "区市场监督管理局",
        "是否划转": "划转",
        "服务层级": "区;街道",
        "办件类型": "承诺件",
        "法定时限": "20个工作日",
        "承诺时限": "10个工作日",
        "主办科室": "market",
        "协办科室": "",
        "监管部门": "market_regulation",
        "办件模板": "joint_inspection",
        "材料": "食品经营许可申请书;营业执照;食品安全管理制度",
        "时限依据": "《食品经营许可管理办法》(2015年)第二十条",
    },
]
# Who does each section's work (bureau.toml's demo staff: the chiefs decide and seal).
STAFF = {
    "window": "lijing",
    "issuing": "wangfang",
    "market": "sunli",
    "finance": "zhaomin",
    "investment": "chenjie",
    "commerce": "zhangwei",
    "inspection": "zhoutao",
}


def _csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _many(n: int) -> list[dict[str, str]]:
    return [
        {**ROWS[i % len(ROWS)], "基本编码": f"9{i:09d}", "实施编码": f"510107{i:012d}", "事项名称": f"事项{i:03d}"}
        for i in range(n)
    ]


def _engine(url: str, clock: FixedClock) -> Engine:
    engine = Engine(Database(url), clock=clock)
    engine.db.upgrade()
    return engine


def _import(engine: Engine, table: Path, folder: Path, check: bool = False) -> list[tuple[str, int, bool]]:
    result = engine.catalogue.import_table(table, folder, processes_dir=PROCESSES, actor="designer", check=check)
    return [(o.matter_key, o.version, o.changed) for o in result.outcomes]


def _run_to_the_end(engine: Engine, case_no: str, matter: str) -> list[str]:
    """Complete every open task as its section's staff would, approving; the BPMN ids done, in order."""
    codes = [m.code for m in engine.repository.matter(matter)[0].materials]
    done: list[str] = []
    for _ in range(20):
        tasks = open_tasks(engine, case_no)
        if not tasks:
            return done
        for bpmn_id, task in sorted(tasks.items()):
            answers: dict[str, dict[str, object]] = {
                "Task_Intake": {"materials_received": codes},
                "Task_LeadReview": {"review_opinion": "符合法定条件", "conditions_met": True},
                "Task_Inspection": {"inspection_opinion": "现场符合要求", "site_conforms": True},
                "Task_Decision": {"decision": "approve"},
                "Task_Seal": {},
                "Task_Issue": {"delivery": "window", "id_checked": True},
            }
            data = answers.get(bpmn_id, {"co_opinion": "同意", "co_agree": True})
            engine.tasks.complete(task.id, user=STAFF[task.section or ""], data=data)
            done.append(bpmn_id)
    raise AssertionError(f"{case_no} did not finish: {done}")


def test_each_template_runs_a_case_to_the_end(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    engine = _engine(sqlite_url, clock)
    folder = tmp_path / "imported"
    try:
        outcomes = _import(engine, _csv(tmp_path / "c.csv", ROWS), folder)
        assert [(k, v, c) for k, v, c in outcomes] == [
            ("m0001150010", 1, True),
            ("m0001180030", 1, True),
            ("m0001200010", 1, True),
            ("m0001300010", 1, True),
        ]
        assert sorted(p.name for p in folder.iterdir())[:2] == ["m0001150010.bpmn", "m0001150010.toml"]
        steps = {}
        for row in ROWS:
            key = "m" + row["基本编码"]
            case = engine.cases.start(key, APPLICANT, actor="lijing")
            steps[row["办件模板"]] = _run_to_the_end(engine, case.case_no, key)
            view = engine.cases.show(case.case_no)
            assert view.summary.status == CaseStatus.APPROVED, key
            assert any(e.kind == "result_shared" for e in view.history)
        assert steps["即办件"] == ["Task_Intake", "Task_Decision", "Task_Seal", "Task_Issue"]
        assert sorted(steps["joint_review"][1:4]) == [
            "Task_CoReview_commerce",
            "Task_CoReview_market",
            "Task_LeadReview",
        ]
        assert sorted(steps["joint_inspection"][1:3]) == ["Task_Inspection", "Task_LeadReview"]
        immediate = engine.repository.matter("m0001180030")[0]
        assert (str(immediate.committed_limit), str(immediate.legal_limit)) == ("1 working_days", "3 working_days")
        assert immediate.extra["service_levels"] == ["district", "street", "community"]
        assert immediate.extra["legal_limit_basis"] == "《市场主体登记管理条例》第十九条"
    finally:
        engine.close()


def test_reimport_versions_only_what_changed(tmp_path: Path, database_url: str, clock: FixedClock) -> None:
    engine = _engine(database_url, clock)
    folder = tmp_path / "imported"
    try:
        assert [c for _, _, c in _import(engine, _csv(tmp_path / "c.csv", ROWS), folder)] == [True] * 4
        deployed = engine.catalogue.stats()  # the deployed matters count as the table does (test_stats_by_hand)
        assert (deployed["concentration"], deployed["by_level"]) == (0.75, {"区": 4, "街道": 2, "社区": 1})
        # Re-import with one matter changed and one dropped: only it gets a new version; the dropped one's
        # files go, its deployed versions stay.
        changed = [{**ROWS[1], "承诺时限": "5个工作日"}, ROWS[0], ROWS[2]]
        assert _import(engine, _csv(tmp_path / "c.csv", changed), folder) == [
            ("m0001150010", 1, False),
            ("m0001180030", 1, False),
            ("m0001200010", 2, True),
        ]
        assert not (folder / "m0001300010.toml").exists()
        assert str(engine.repository.matter("m0001200010")[0].committed_limit) == "5 working_days"
    finally:
        engine.close()


def test_two_hundred_matters_import_render_their_guides_and_start(
    tmp_path: Path, sqlite_url: str, clock: FixedClock
) -> None:
    engine = _engine(sqlite_url, clock)
    try:
        outcomes = _import(engine, _csv(tmp_path / "big.csv", _many(200)), tmp_path / "imported")
        assert len(outcomes) == 200 and all(changed for _, _, changed in outcomes)
        client = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "t"}).test_client()
        index = client.get("/guide/").get_data(as_text=True)
        for key, _, _ in outcomes:
            assert key in index
            page = client.get(f"/guide/{key}")
            assert page.status_code == 200 and "申请材料" in page.get_data(as_text=True), key
            case = engine.cases.start(key, APPLICANT, actor="lijing")
            assert case.status == CaseStatus.RECEIVED, key
        stats = engine.catalogue.stats()
        assert stats["total"] == 200 and stats["by_template"] == {
            "immediate": 50,
            "joint_inspection": 50,
            "joint_review": 50,
            "window_approval": 50,
        }
    finally:
        engine.close()


def test_stats_by_hand(tmp_path: Path) -> None:
    table = _csv(tmp_path / "small.csv", ROWS)
    result = CliRunner().invoke(
        cli, ["--database", f"sqlite:///{tmp_path / 'x.db'}", "catalogue", "stats", str(table), "--json"]
    )
    assert result.exit_code == 0, result.output
    # 4 matters: 3 licences (01) and 1 行政确认 (07); 3 of 4 transferred (划转); levels counted per matter.
    assert json.loads(result.output) == {
        "total": 4,
        "by_type": {"01 行政许可": 3, "07 行政确认": 1},
        "by_source_department": {"区市场监督管理局": 2, "区投资促进局": 1, "区财政局": 1},
        "by_level": {"区": 4, "街道": 2, "社区": 1},
        "by_template": {"immediate": 1, "joint_inspection": 1, "joint_review": 1, "window_approval": 1},
        "transferred": 3,
        "concentration": 0.75,
    }


BAD = [
    ({"主办科室": "规划科"}, "主办科室: unknown section '规划科'"),
    ({"监管部门": "卫健局"}, "监管部门: unknown department '卫健局'"),
    ({"办件模板": "会审"}, "办件模板: unknown template '会审'"),
    ({"服务层级": "区;乡镇"}, "服务层级: unknown level '乡镇'"),
    ({"法定时限": "二十天"}, "法定时限: '二十天' is no time limit"),
    ({"承诺时限": "30个工作日"}, "承诺时限: the committed limit 30个工作日 is longer than the legal limit"),
    ({"基本编码": "0001180030"}, "基本编码: duplicate code '0001180030' (also on line 2)"),
    ({"办件模板": "joint_review", "协办科室": ""}, "协办科室: the joint_review template needs at least one"),
    ({"事项类型": "行政审批"}, "事项类型: '行政审批' is no GB/T 39046 matter type"),
    ({"是否划转": "是"}, "是否划转: '是': write 划转 or 保留"),
    ({"事项名称": ""}, "事项名称: empty"),
]


def test_every_bad_cell_is_one_line_with_row_and_column_and_nothing_is_imported(
    tmp_path: Path, sqlite_url: str
) -> None:
    good = ROWS[1]
    rows = [
        ROWS[0],
        *(
            {**good, "基本编码": f"00099{i:05d}", "实施编码": f"5101{i:05d}", **change}
            for i, (change, _) in enumerate(BAD)
        ),
    ]
    table = _csv(tmp_path / "bad.csv", rows)
    folder = tmp_path / "imported"
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(cli, ["--database", url, "db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["--database", url, "catalogue", "import", str(table), "--into", str(folder)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"error: {len(BAD)} problem(s); nothing was imported"
    for line_no, (_, expected) in enumerate(BAD, start=3):
        assert sum(line.startswith(f"{table}:{line_no}: {expected}") for line in lines) == 1, (expected, lines)
    assert not folder.exists()
    assert runner.invoke(cli, ["--database", url, "matters", "--json"]).output.strip() == "[]"

    # An XLSX with a column missing: named, nothing read further.
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([c for c in HEADER if c != "承诺时限"])
    sheet.append([ROWS[0].get(c, "") for c in HEADER if c != "承诺时限"])
    book.save(tmp_path / "missing.xlsx")
    result = runner.invoke(cli, ["--database", url, "catalogue", "import", str(tmp_path / "missing.xlsx"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"] == [
        f"{tmp_path / 'missing.xlsx'}:1: 承诺时限: missing column (the header row must name it)"
    ]


def test_xlsx_round_trip_matches_the_csv(tmp_path: Path, sqlite_url: str, clock: FixedClock) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append([row[c] for c in HEADER])
    book.save(tmp_path / "catalogue.xlsx")
    engine = _engine(sqlite_url, clock)
    try:
        first = _import(engine, tmp_path / "catalogue.xlsx", tmp_path / "imported")
        assert [changed for _, _, changed in first] == [True] * 4
        # the same rows as CSV: the same matters, nothing changes
        again = _import(engine, _csv(tmp_path / "catalogue.csv", ROWS), tmp_path / "imported")
        assert [(k, v, c) for k, v, c in again] == [(k, v, False) for k, v, _ in first]
        # a bad cell in the sheet is named by its column letter too
        sheet["K3"] = "40个工作日"
        book.save(tmp_path / "catalogue.xlsx")
        with pytest.raises(DeploymentError) as err:
            _import(engine, tmp_path / "catalogue.xlsx", tmp_path / "imported")
        assert str(err.value.problems[0]).startswith(f"{tmp_path / 'catalogue.xlsx'}:3: 承诺时限 (K): the committed")

        # materials on a second sheet (材料), with issuers, copies and optional ones; a code it names that the
        # catalogue lacks is refused
        sheet["K3"] = ROWS[1]["承诺时限"]
        sheet["P3"] = None
        materials = book.create_sheet("材料")
        materials.append(["基本编码", "材料名称", "出具机构", "原件份数", "复印件份数", "是否必备"])
        materials.append([ROWS[1]["基本编码"], "代理记账资格申请表", "申请人", 1, 0, "是"])
        materials.append([ROWS[1]["基本编码"], "办公场所证明", "产权人", 0, 1, "否"])
        materials.append(["0009999999", "申请书", "申请人", 1, 0, "是"])
        book.save(tmp_path / "catalogue.xlsx")
        with pytest.raises(DeploymentError) as err:
            _import(engine, tmp_path / "catalogue.xlsx", tmp_path / "imported", check=True)
        assert [str(p) for p in err.value.problems] == [
            f"{tmp_path / 'catalogue.xlsx'} [材料]:4: 基本编码: '0009999999' is no 基本编码 of the catalogue"
        ]
        materials.delete_rows(4)
        book.save(tmp_path / "catalogue.xlsx")
        assert ("m0001200010", 2, True) in _import(engine, tmp_path / "catalogue.xlsx", tmp_path / "imported")
        listed = engine.repository.matter("m0001200010")[0].materials
        assert [(m.code, m.name, m.issuer, m.originals, m.copies, m.required) for m in listed] == [
            ("M01", "代理记账资格申请表", "申请人", 1, 0, True),
            ("M02", "办公场所证明", "产权人", 0, 1, False),
        ]
    finally:
        engine.close()


def test_shipped_templates_and_example_catalogue(tmp_path: Path) -> None:
    bureau = load_bureau(PROCESSES / "bureau.toml")
    for template in REFERENCE_BINDINGS:
        shipped = PROCESSES / "templates" / f"{template}.bpmn"
        # regenerate with: reference_template(template, bureau, ROOT / "forms") written to this file
        assert shipped.read_bytes() == reference_template(template, bureau, ROOT / "forms"), template
    result = CliRunner().invoke(
        cli,
        [
            "--database",
            f"sqlite:///{tmp_path / 'x.db'}",
            "catalogue",
            "import",
            str(PROCESSES / "catalogue" / "example.csv"),
            "--check",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "own BPMN: 0001180010 is the hand-drawn matter enterprise_registration" in result.output
    assert "own BPMN: 0001180020 is the hand-drawn matter individual_business_registration" in result.output
    # by default beside the table (--check writes nothing there)
    assert f"ok: 7 matter(s) would be imported into {PROCESSES / 'catalogue' / 'imported'}" in result.output
    if shutil.which("npm") and BPMNLINT is not None:
        files = [str(PROCESSES / "templates" / f"{t}.bpmn") for t in REFERENCE_BINDINGS]
        out = subprocess.run([str(BPMNLINT), *files], capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert out.returncode == 0, out.stdout + out.stderr
