"""Calling /api/v1/ in the tests, every request and every answer checked against the OpenAPI document
the server publishes (openapi-core): a test that sends or gets something the document does not describe
fails, so the document cannot drift from what the server accepts.

``ApiClient`` wraps Flask's test client; ``validate`` takes what was sent and what came back, so the
real-HTTP test (httpx) is checked the same way.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import FileStorage, Headers, ImmutableMultiDict, MultiDict
from werkzeug.test import encode_multipart

from onewindow.worklist.api.openapi import document

SPEC = OpenAPI.from_dict(
    document(), config=Config(extra_media_type_deserializers={"application/problem+json": json.loads})
)
BASE = "http://localhost"


@dataclass
class Sent:
    """A request as openapi-core reads one."""

    method: str
    host_url: str
    path: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class Answer:
    """A response as openapi-core reads one, with its JSON."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes
    json: Any = field(default=None)


def sent(method: str, url: str, headers: dict[str, str], body: bytes | None, content_type: str) -> Sent:
    parts = urlsplit(url)
    return Sent(
        method=method.lower(),
        host_url=f"{parts.scheme}://{parts.netloc}",
        path=parts.path,
        parameters=RequestParameters(
            query=ImmutableMultiDict(
                [(k, v) for k, values in parse_qs(parts.query, keep_blank_values=True).items() for v in values]
            ),
            header=Headers(headers),
            cookie=ImmutableMultiDict(),
        ),
        body=body,
        content_type=content_type,
    )


def answer(status: int, headers: Headers, data: bytes) -> Answer:
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
    parsed = json.loads(data) if content_type.endswith("json") and data else None
    return Answer(status, content_type, headers, data, parsed)


def validate(request: Sent, response: Answer, *, valid_request: bool = True) -> None:
    """The request (unless the test sends a deliberately bad one) and the response match the document."""
    if valid_request:
        SPEC.validate_request(request)
    SPEC.validate_response(request, response)


class ApiClient:
    """``api.get("/cases", token=…)`` → the checked ``Answer``; ``expect`` asserts the status."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        form: dict[str, str | tuple[str, bytes]] | None = None,
        raw: bytes | None = None,
        content_type: str = "",
        headers: dict[str, str] | None = None,
        expect: int | None = None,
        valid_request: bool = True,
    ) -> Answer:
        sent_headers = dict(headers or {})
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        body = raw
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            content_type = content_type or "application/json"
        if form is not None:  # multipart/form-data: text fields and (filename, bytes) files
            values = MultiDict(
                [
                    (k, v if isinstance(v, str) else FileStorage(io.BytesIO(v[1]), filename=v[0], name=k))
                    for k, v in form.items()
                ]
            )
            boundary, body = encode_multipart(values)
            content_type = f"multipart/form-data; boundary={boundary}"
        if content_type:
            sent_headers["Content-Type"] = content_type
        url = BASE + "/api/v1" + path
        response = self.client.open(url, method=method.upper(), headers=sent_headers, data=body)
        got = answer(response.status_code, response.headers, response.get_data())
        validate(sent(method, url, sent_headers, body, content_type), got, valid_request=valid_request)
        if expect is not None:
            assert got.status_code == expect, (got.status_code, got.json)
        if got.status_code >= 400:
            assert got.content_type == "application/problem+json", got.content_type
            assert got.json["status"] == got.status_code and got.json["type"].endswith(got.json["code"])
        return got

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("get", path, **kw)

    def post(self, path: str, **kw: Any) -> Answer:
        return self.call("post", path, **kw)

    def put(self, path: str, **kw: Any) -> Answer:
        return self.call("put", path, **kw)

    def delete(self, path: str, **kw: Any) -> Answer:
        return self.call("delete", path, **kw)

    def problem(self, method: str, path: str, status: int, code: str, **kw: Any) -> dict[str, Any]:
        """A call that must be refused with ``status`` and ``code``; the problem's body."""
        got = self.call(method, path, expect=status, **kw)
        assert got.json["code"] == code, got.json
        body: dict[str, Any] = got.json
        return body
