"""三级下沉: service points in bureau.toml, the point a case is received at, the matter's levels, and window work
seen only at the point that received the case (engine, CLI and bad input)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import (
    ConfigError,
    Engine,
    FixedClock,
    NotFoundError,
    ValidationError,
    WorklistFilter,
    default_processes_dir,
    load_bureau,
)
from onewindow.engine._config.catalogue import parse_catalogue

from .api_support import ApiClient
from .helpers import ADMIN, ER_APPLICANT, OnewindowRunner, ids, login, make_engine, open_tasks, text

ER = "enterprise_registration"
ER_MATERIALS = ["M01", "M02", "M03", "M04", "M05"]
BUREAU = default_processes_dir() / "bureau.toml"
STREET, COMMUNITY = "jiangxijie", "ximianqiao"  # the shipped demo points of 浆洗街街道


def test_the_shipped_bureau_has_three_levels_each_point_with_windows_and_staff() -> None:
    bureau = load_bureau(BUREAU)
    levels = {p.level for p in bureau.points}
    assert levels == {"district", "street", "community"}
    assert bureau.hall.code == "district" and bureau.hall.name == "武侯区政务服务中心"
    assert all(p.windows and p.address and p.hours for p in bureau.points)
    at = {p.code: [m.user for m in bureau.staff if m.point == p.code] for p in bureau.points}
    assert at[STREET] and at[COMMUNITY]  # window clerks of their own
    assert {"wangfang", "lijing", "sunli"} <= set(at["district"])  # the demo's users stay at the hall
    assert bureau.window_sections() == {"window", "issuing"}
    assert [p.code for p in bureau.points_for(["district", "street"])] == ["district", STREET]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('level = "street"', 'level = "city"', r"\[\[points\]\] #2 \(jiangxijie\): level 'city' is not one of"),
        (
            'windows = ["综合服务窗口"]',
            "windows = []",
            r"\[\[points\]\] #3 \(ximianqiao\): 'windows' must list the point's windows",
        ),
        (
            'point = "ximianqiao"',
            'point = "yulin"',
            r"\[\[staff\]\] #\d+ \(tangli\): point = 'yulin' is not a \[\[points\]\] code; known: district, ",
        ),
        (
            'code = "district"\nname = "武侯区政务服务中心"',
            'code = "hall"\nname = "武侯区政务服务中心"',
            r"the district hall",
        ),
        ('code = "ximianqiao"', 'code = "jiangxijie"', r"duplicate point code\(s\) jiangxijie"),
        ('hours = "周一至周五 09:00-12:00, 14:00-17:00', 'opening = "周一至周五', r"unknown key\(s\) opening"),
    ],
)
def test_bad_points_in_bureau_toml_are_one_line_naming_file_and_key(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    text = BUREAU.read_text("utf-8")
    assert old in text
    bad = tmp_path / "bureau.toml"
    bad.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ConfigError) as err:
        load_bureau(bad)
    message = str(err.value)
    assert "\n" not in message and str(bad) in message
    assert re.search(says, message), message


def test_a_bureau_without_points_has_its_hall_alone(tmp_path: Path) -> None:
    text = BUREAU.read_text("utf-8")
    start, end = (
        text.index("[[points]]"),
        text.index("# ---------------------------------------------------------------- supervising"),
    )
    plain = re.sub(r'\npoint = "[a-z]+".*', "", text[:start] + text[end:])
    (tmp_path / "bureau.toml").write_text(plain, "utf-8")
    bureau = load_bureau(tmp_path / "bureau.toml")
    assert [(p.code, p.level) for p in bureau.points] == [("district", "district")] and bureau.hall.windows


def test_a_catalogue_names_known_levels_only(tmp_path: Path) -> None:
    bureau = load_bureau(BUREAU)
    shipped, problems = parse_catalogue(default_processes_dir() / f"{ER}.toml", bureau)
    assert not problems and shipped is not None and shipped.service_levels == ("district",)
    bad = tmp_path / f"{ER}.toml"
    text = (default_processes_dir() / f"{ER}.toml").read_text("utf-8")
    bad.write_text(text.replace('service_levels = ["district"]', 'service_levels = ["district", "村"]'), "utf-8")
    _matter, problems = parse_catalogue(bad, bureau)
    assert [(p.element, p.message) for p in problems] == [
        ("service_levels", "unknown service level '村'; levels: district (区), street (街道), community (社区)")
    ]


def _all_levels(tmp_path: Path) -> Path:
    """The shipped processes with enterprise registration handled at every level (a bureau's choice)."""
    folder = tmp_path / "processes"
    shutil.copytree(default_processes_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    toml = folder / f"{ER}.toml"
    text = toml.read_text("utf-8")
    toml.write_text(
        text.replace('service_levels = ["district"]', 'service_levels = ["district", "street", "community"]'), "utf-8"
    )
    return folder


@pytest.fixture
def points_engine(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(database_url, clock)
    engine.repository.deploy(_all_levels(tmp_path), actor="tester")
    yield engine
    engine.close()


def test_intake_refuses_a_matter_not_handled_at_the_points_level(engine: Engine) -> None:
    with pytest.raises(ValidationError) as err:
        engine.cases.start(ER, ER_APPLICANT, actor="zhengyan")
    assert err.value.by_field == {"point": "企业设立登记不在街道级服务点办理(浆洗街街道便民服务中心),办理层级: 区"}
    with pytest.raises(ValidationError, match="不在社区级服务点办理"):
        engine.cases.intake(ER, ER_APPLICANT, {"materials_received": ER_MATERIALS}, actor="tangli")
    with pytest.raises(ValidationError, match="不在街道级"):
        engine.cases.start(ER, ER_APPLICANT, actor=ADMIN, point=STREET)
    assert engine.cases.page_for(engine.users.get(ADMIN)).total == 0  # nothing was registered


def test_a_case_records_its_point_and_only_that_points_windows_see_its_window_work(points_engine: Engine) -> None:
    engine = points_engine
    hall = engine.cases.start(ER, ER_APPLICANT, actor="lijing").case_no
    street = engine.cases.start(ER, ER_APPLICANT, actor="zhengyan").case_no
    community = engine.cases.start(ER, ER_APPLICANT, actor=ADMIN, point=COMMUNITY).case_no  # an admin chooses
    assert [engine.cases.show(c).summary.point for c in (hall, street, community)] == ["district", STREET, COMMUNITY]
    with pytest.raises(ValidationError, match="takes applications there only"):
        engine.cases.start(ER, ER_APPLICANT, actor="lijing", point=STREET)  # a clerk has one point
    with pytest.raises(ValidationError, match="unknown service point 'yulin'"):
        engine.cases.start(ER, ER_APPLICANT, actor=ADMIN, point="yulin")

    def worklist(user: str) -> set[str]:
        return {t.case_no for t in engine.tasks.worklist(engine.users.get(user), per_page=50).rows}

    assert (worklist("lijing"), worklist("zhengyan"), worklist("tangli")) == ({hall}, {street}, {community})
    street_intake = open_tasks(engine, street)["Task_Intake"]
    assert engine.tasks.get_for(engine.users.get("zhengyan"), street_intake.id).point == STREET
    for other in ("lijing", "tangli"):  # another point's window: as unknown as a task that does not exist
        with pytest.raises(NotFoundError):
            engine.tasks.get_for(engine.users.get(other), street_intake.id)
        with pytest.raises(NotFoundError):
            engine.tasks.page(engine.users.get(other), street_intake.id)

    # the back office at the district serves every point; the licence goes back to the street's window
    engine.tasks.complete(street_intake.id, user="zhengyan", data={"materials_received": ER_MATERIALS})
    assert street in worklist("sunli")
    review = {"name_checked": True, "address_checked": True, "scope_checked": True, "review_opinion": "符合"}
    for bpmn_id, data in (
        ("Task_FormalReview", review),
        ("Task_RegistrationDecision", {"decision": "approve"}),
        ("Task_Seal", {"seal_no": "510107-04"}),
    ):
        engine.tasks.complete(open_tasks(engine, street)[bpmn_id].id, user="sunli", data=data)
    issue = open_tasks(engine, street)["Task_IssueLicence"]
    assert issue.id in {t.id for t in engine.tasks.worklist(engine.users.get("zhengyan"), per_page=50).rows}
    assert street not in worklist("wangfang")  # the hall's issuing window does not hand over the street's licence
    filtered = engine.tasks.worklist(engine.users.get("zhengyan"), WorklistFilter(section="issuing"))
    assert [t.case_no for t in filtered.rows] == [street]


def test_users_have_one_point(sqlite_engine: Engine) -> None:
    users = sqlite_engine.users
    assert (users.get("lijing").point, users.get("zhengyan").point, users.get("tangli").point) == (
        "district",
        STREET,
        COMMUNITY,
    )
    assert users.add("newclerk", sections=["window"]).point == "district"
    assert users.add("newclerk", sections=["window"], point=STREET).point == STREET
    assert users.add("newclerk", sections=["window", "issuing"]).point == STREET  # kept when not named
    with pytest.raises(ValidationError) as err:
        users.add("newclerk", sections=["window"], point="yulin")
    assert err.value.by_field == {"point": "unknown service point 'yulin'; known: district, jiangxijie, ximianqiao"}


def test_cli_start_takes_the_clerks_point_and_show_names_it(
    sqlite_engine: Engine, runner: OnewindowRunner, tmp_path: Path
) -> None:
    data = tmp_path / "applicant.json"
    data.write_text(json.dumps(ER_APPLICANT, ensure_ascii=False), "utf-8")
    refused = runner.run("case", "start", ER, "--data", str(data), "--user", "zhengyan")
    assert refused.exit_code != 0
    assert "企业设立登记不在街道级服务点办理(浆洗街街道便民服务中心),办理层级: 区" in refused.output
    assert "Traceback" not in refused.output and len(refused.output.strip().splitlines()) == 1
    started = runner.run("case", "start", ER, "--data", str(data), "--user", ADMIN, "--point", "district", "--json")
    case_no = json.loads(started.output)["case_no"]
    shown = runner.run("case", "show", case_no)
    assert "received at: 武侯区政务服务中心 (district, 区)" in shown.output
    assert json.loads(runner.run("case", "show", case_no, "--json").output)["received_at"] == {
        "code": "district",
        "name": "武侯区政务服务中心",
        "level": "district",
    }


def test_the_worklist_guide_and_api_keep_to_the_clerks_point(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    engine: Engine = app.config["ENGINE"]
    login(client, "zhengyan")
    chooser = text(client.get("/intake"))
    assert "受理网点: 浆洗街街道便民服务中心 (街道)" in chooser
    assert "个体工商户设立登记" in chooser and "企业设立登记" not in chooser.replace("个体工商户设立登记", "")
    refused = client.get(f"/intake/{ER}")
    assert refused.status_code == 409
    assert "企业设立登记不在街道级服务点办理(浆洗街街道便民服务中心),办理层级: 区" in text(refused)

    hall = text(client.get("/hall/matters/individual_business_registration"))  # the online hall lists them too
    assert ids(hall, "data-point") == ["district", STREET, COMMUNITY] and "洗面桥社区" in hall
    assert ids(text(client.get(f"/hall/matters/{ER}")), "data-point") == ["district"]

    engine.repository.deploy(_all_levels(tmp_path), actor="tester")
    guide = text(client.get(f"/guide/{ER}"))
    assert ids(guide, "data-point") == ["district", STREET, COMMUNITY] and "成都市武侯区浆洗街街道便民服务中心" in guide
    hall_case = engine.cases.start(ER, ER_APPLICANT, actor="lijing").case_no
    street_case = engine.cases.start(ER, ER_APPLICANT, actor="zhengyan").case_no
    page = text(client.get(f"/cases/{street_case}"))
    assert re.search(r'id="case-point" data-point="jiangxijie">浆洗街街道便民服务中心<', page)
    worklist = text(client.get("/"))
    assert street_case in worklist and hall_case not in worklist

    api = ApiClient(app.test_client())
    token = engine.api_keys.issue("街道窗口系统", ["tasks:read"], user="zhengyan", actor=ADMIN).token
    listed = api.get("/tasks", token=token, expect=200).json["items"]
    assert [(t["case_no"], t["point"]) for t in listed] == [(street_case, STREET)]
    hall_intake = open_tasks(engine, hall_case)["Task_Intake"].id
    api.problem("get", f"/tasks/{hall_intake}", 404, "not_found", token=token)
