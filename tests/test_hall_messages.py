"""The hall's message box with Flask's test client and the apps' API: the list newest first with unread ones
highlighted, the header's badge, opening the list or a message reads it, links to one's own case or to the
办件查询 of a window case, the SMS switch on /hall/me, English pages, and another account's message as
unknown as a missing one (404) on the pages and through the API."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from flask.testing import FlaskClient

from onewindow.engine import Engine

from .api_support import ApiClient
from .hall_support import BOB_ID, online_filing, register
from .helpers import ALL_FI_MATERIALS, PASSWORD, open_tasks, post, start_fi, text
from .test_api_applicants import sign_in

BADGE = re.compile(r'id="unread-badge"[^>]*>(\d+)<')


def hall_login(client: FlaskClient, login_name: str) -> None:
    response = post(client, "/hall/login", {"login": login_name, "password": PASSWORD})
    assert response.status_code == 302, text(response)


def badge(client: FlaskClient) -> int:
    found = BADGE.search(text(client.get("/hall/me")))
    return int(found.group(1)) if found else 0


def intake(engine: Engine, case_no: str, materials: list[str]) -> None:
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": materials, "negative_list": False},
    )


def listed(page: str) -> list[tuple[str, str, str]]:
    """(message id, kind, unread yes/no) of each message on /hall/messages, top to bottom."""
    return re.findall(r'data-message="(\d+)" data-kind="(\w+)" data-case-no="[^"]+" data-unread="(yes|no)"', page)


def test_the_message_box_badge_and_the_sms_switch(any_app: Flask) -> None:
    engine: Engine = any_app.config["ENGINE"]
    client = any_app.test_client()
    alice = register(engine)
    register(engine, BOB_ID, "13700137000", name="李四")
    first, second = online_filing(engine, alice.id), online_filing(engine, alice.id)
    intake(engine, first, ALL_FI_MATERIALS)
    intake(engine, second, ["M01", "M02"])
    window = start_fi(engine, contact_mobile="13800138000")  # at the window, with Alice's mobile
    intake(engine, window, ALL_FI_MATERIALS)

    hall_login(client, "13800138000")
    assert badge(client) == 3
    page = text(client.get("/hall/messages"))
    shown = listed(page)
    assert [(kind, unread) for _id, kind, unread in shown] == [
        ("accepted", "yes"),
        ("supplement", "yes"),
        ("accepted", "yes"),
    ]  # newest first, each highlighted until now
    assert page.count('class="message unread"') == 3 and "3 条未读消息(现已标为已读)" in page
    assert f'href="/hall/cases/{first}"' in page and f'href="/hall/cases/{second}"' in page
    code = engine.cases.show(window).query_code
    track = f"/hall/track?case={window}&amp;code={code}"  # not her online case: 办件查询 with its code
    assert track in page and client.get(unescape(track)).status_code == 200
    assert "外国投资者主体资格证明" in page  # the 一次性告知's materials
    assert badge(client) == 0  # opening the list read them
    assert [unread for *_rest, unread in listed(text(client.get("/hall/messages")))] == ["no", "no", "no"]

    supplement = open_tasks(engine, second)["Task_Supplement"]
    engine.tasks.complete(supplement.id, user="lijing", data={"supplemented_materials": ["M03", "M04", "M05", "M06"]})
    assert badge(client) == 2  # the supplement received, and the case accepted with it
    newest, received = engine.notifications.messages(alice.id)[:2]
    assert (newest.kind, received.kind) == ("accepted", "supplement_received")
    for message in (newest, received):
        opened = client.get(f"/hall/messages/{message.id}")
        assert opened.status_code == 200 and message.text in unescape(text(opened))
    assert badge(client) == 0

    assert 'id="sms-on" checked' in text(client.get("/hall/me"))
    off = post(client, "/hall/me/sms", {})
    assert off.status_code == 302 and not engine.notifications.sms_enabled(alice.id)
    assert 'id="sms-on" checked' not in text(client.get("/hall/me"))
    post(client, "/hall/me/sms", {"sms": "on"})
    assert engine.notifications.sms_enabled(alice.id)

    post(client, "/lang", {"lang": "en"})
    english = text(client.get("/hall/messages"))
    assert ">Messages<" in english and "Materials missing" in english and "Accepted" in english
    assert "Supplement received" in english

    post(client, "/hall/logout")
    hall_login(client, "13700137000")
    assert client.get(f"/hall/messages/{newest.id}").status_code == 404
    assert client.get("/hall/messages/99999999999999").status_code == 404
    assert listed(text(client.get("/hall/messages"))) == []
    assert engine.notifications.message(alice.id, newest.id).unread is False  # Bob's attempts changed nothing


def test_the_apps_read_and_mark_their_messages(any_app: Flask) -> None:
    engine: Engine = any_app.config["ENGINE"]
    api = ApiClient(any_app.test_client())
    alice = register(engine)
    register(engine, BOB_ID, "13700137000", name="李四")
    case_no = online_filing(engine, alice.id)
    intake(engine, case_no, ALL_FI_MATERIALS)
    token = sign_in(api)

    box = api.get("/me/messages", token=token, expect=200).json
    assert box["unread"] == 1 and [m["kind"] for m in box["items"]] == ["accepted"]
    (message,) = box["items"]
    assert message["case_no"] == case_no and message["own_case"] and message["unread"]

    other = sign_in(api, "13700137000")
    api.problem("post", f"/me/messages/{message['id']}/read", 404, "not_found", token=other)
    assert api.get("/me/messages", token=other, expect=200).json == {"items": [], "unread": 0}

    read = api.post(f"/me/messages/{message['id']}/read", token=token, expect=200).json
    assert read["read_at"] is not None and not read["unread"]
    assert api.get("/me/messages", token=token, expect=200).json["unread"] == 0
