"""Form-encoded and multipart bodies, read back by the upstream as the APIs document them.

Stripe's form convention (deep_object: `metadata[key]=v`, `items[0][price]=p`), Twilio's
(repeat: `StatusCallbackEvent=a&StatusCallbackEvent=b`), and multipart/form-data with file
parts, each called through the MCP endpoint with the official SDK against a recording
upstream on loopback, which parses what arrived with the standard library's own parsers.
"""

from __future__ import annotations

import base64
import email.policy
import json
import textwrap
from collections.abc import Iterator
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from proxy.errors import ConfigError
from proxy.registry import load_registry
from tests.support.fake_postmark import FakePostmark
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import SchemaChecker, mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

MANIFEST = """\
name: shop
title: Shop
base_url: https://shop.invalid
resources:
  charge:
    methods:
      create:
        http: POST /v1/charges
        description: Create a charge (Stripe-style form body).
        body_encoding: form
        body:
          amount: {type: integer}
          currency: {type: string}
          capture: {type: boolean}
          description: {type: [string, "null"]}
          statement: {type: string}
          metadata: {type: object, additionalProperties: {type: string}}
          items:
            type: array
            items:
              type: object
              properties: {price: {type: string}, quantity: {type: integer}}
          expand: {type: array, items: {type: string}}
          shipping:
            type: object
            properties:
              address: {type: object, properties: {line1: {type: string}}}
          extra: {}
  small_charge:
    methods:
      create:
        http: POST /v1/small
        description: A form body the upstream takes up to 120 bytes of.
        body_encoding: form
        max_body_bytes: 120
        body:
          note: {type: string}
  call:
    methods:
      create:
        http: POST /2010-04-01/Accounts/{AccountSid}/Calls.json
        description: Place a call (Twilio-style form body).
        body_encoding: form
        form_style: repeat
        path:
          AccountSid: {type: string}
        body:
          To: {type: string}
          From: {type: string}
          StatusCallbackEvent: {type: array, items: {type: string}}
          Record: {type: boolean}
          Timeout: {type: integer}
          Twiml: {type: string}
          Anything: {}
  upload:
    methods:
      create:
        http: POST /v1/files
        description: Upload a file (multipart).
        body_encoding: multipart
        fixed_body: {source: agent}
        body:
          file: {type: string, contentEncoding: base64, contentMediaType: image/png}
          blob: {type: string, contentEncoding: base64}
          purpose: {type: string}
          count: {type: integer}
          ratio: {type: number}
          public: {type: boolean}
          meta: {type: object}
          tags: {type: array, items: {type: string}}
  note:
    methods:
      create:
        http: POST /v1/notes
        description: A JSON body, the default.
        body:
          text: {type: string}
"""

# Values a form body must keep inside one field: separators, brackets, unicode, spaces.
AWKWARD = "Grüße & 🎉 a=b [x] 100% +1"


class Recorder(JsonHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        Recorder.seen.append(
            {
                "path": self.path,
                "content_type": self.headers.get("content-type"),
                "body": self.rfile.read(length),
            }
        )
        self.send_json({"id": "obj_1"})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving(Recorder) as url:
        yield url


@pytest.fixture(scope="module")
def yamcp_shop(
    upstream: str, fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("bodies")
    extra = workdir / "more-integrations"
    (extra / "shop").mkdir(parents=True)
    (extra / "shop" / "manifest.yaml").write_text(MANIFEST)
    write_workdir(
        workdir, fake_postmark.url, f"  shop:\n    integration: shop\n    base_url: {upstream}\n"
    )
    server = start_yamcp(workdir, {"YAMCP_INTEGRATIONS_DIRS": f"{ROOT / 'integrations'},{extra}"})
    server.settings = server.settings.model_copy(
        update={"integrations_dirs": [ROOT / "integrations", extra]}
    )
    yield server
    stop_yamcp(server)


@pytest.fixture
async def url(yamcp_shop: Yamcp) -> str:
    Recorder.seen.clear()
    return await yamcp_shop.mint(account="shop")


async def call(url: str, checker: SchemaChecker, tool: str, arguments: dict[str, Any]) -> Any:
    async with mcp_client(url, checker) as client:
        return await client.call_tool(tool, arguments)


async def test_stripe_style_form_body(url: str, schema_checker: SchemaChecker) -> None:
    result = await call(
        url,
        schema_checker,
        "create_a_shop_charge",
        {
            "amount": 2000,
            "currency": "eur",
            "capture": False,
            "description": None,  # null: left out
            "statement": "",  # empty: sent, Stripe's way to unset a field
            "metadata": {"order_id": "6735", "note": AWKWARD},
            "items": [{"price": "price_1", "quantity": 2}, {"price": "price_2"}],
            "expand": ["customer", "invoice.subscription"],
            "shipping": {"address": {"line1": "1 Main St"}},
        },
    )
    assert not result.is_error, result.content
    [seen] = Recorder.seen
    assert seen["path"] == "/v1/charges"
    assert seen["content_type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(seen["body"].decode("ascii"), keep_blank_values=True, strict_parsing=True) == [
        ("amount", "2000"),
        ("currency", "eur"),
        ("capture", "false"),
        ("statement", ""),
        ("metadata[order_id]", "6735"),
        ("metadata[note]", AWKWARD),
        ("items[0][price]", "price_1"),
        ("items[0][quantity]", "2"),
        ("items[1][price]", "price_2"),
        ("expand[0]", "customer"),
        ("expand[1]", "invoice.subscription"),
        ("shipping[address][line1]", "1 Main St"),
    ]
    # Percent-encoded on the wire: nothing in a value can end it or open a nested key.
    assert (
        b"metadata%5Bnote%5D=Gr%C3%BC%C3%9Fe+%26+%F0%9F%8E%89+a%3Db+%5Bx%5D+100%25+%2B1"
        in (seen["body"])
    )


async def test_twilio_style_form_body_repeats_array_keys(
    url: str, schema_checker: SchemaChecker
) -> None:
    twiml = "<Response><Say>Grüße, 1 & 2 = 3 [ok]</Say></Response>"
    result = await call(
        url,
        schema_checker,
        "create_a_shop_call",
        {
            "AccountSid": "AC123",
            "To": "+15558675310",
            "From": "+15017122661",
            "StatusCallbackEvent": ["initiated", "ringing", "answered"],
            "Record": True,
            "Timeout": 30,
            "Twiml": twiml,
        },
    )
    assert not result.is_error, result.content
    [seen] = Recorder.seen
    assert seen["path"] == "/2010-04-01/Accounts/AC123/Calls.json"
    assert seen["content_type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(seen["body"].decode("ascii"), strict_parsing=True) == [
        ("To", "+15558675310"),
        ("From", "+15017122661"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("Record", "true"),
        ("Timeout", "30"),
        ("Twiml", twiml),
    ]


def _parts(content_type: str, body: bytes) -> list[Any]:
    """The parts as the standard library's MIME parser reads them (not yamcp's code)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    assert message.is_multipart() and not message.defects
    return list(message.iter_parts())


async def test_multipart_file_and_text_parts(url: str, schema_checker: SchemaChecker) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n"
    blob = "Grüße & = [ \n".encode() * 3
    # MIME-style base64, wrapped every 76 characters: line breaks are not part of the data.
    wrapped = base64.encodebytes(png).decode()
    result = await call(
        url,
        schema_checker,
        "create_a_shop_upload",
        {
            "file": wrapped,
            "blob": base64.b64encode(blob).decode(),
            "purpose": AWKWARD,
            "count": 3,
            "ratio": 0.5,
            "public": True,
            "meta": {"a": [1, "ü"]},
            "tags": ["x", "y"],
        },
    )
    assert not result.is_error, result.content
    [seen] = Recorder.seen
    content_type = seen["content_type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1]
    assert seen["body"].startswith(f"--{boundary}\r\n".encode())
    assert seen["body"].endswith(f"--{boundary}--\r\n".encode())
    parts = {
        part.get_param("name", header="content-disposition"): part
        for part in _parts(content_type, seen["body"])
    }
    assert list(parts) == [
        "file",
        "blob",
        "purpose",
        "count",
        "ratio",
        "public",
        "meta",
        "tags",
        "source",
    ]
    assert parts["file"].get_filename() == "file"
    assert parts["file"].get_content_type() == "image/png"
    assert parts["file"].get_payload(decode=True) == png
    assert parts["blob"].get_filename() == "blob"
    assert parts["blob"].get_content_type() == "application/octet-stream"
    assert parts["blob"].get_payload(decode=True) == blob
    texts = {
        name: part.get_payload(decode=True).decode()
        for name, part in parts.items()
        if name not in ("file", "blob")
    }
    assert texts == {
        "purpose": AWKWARD,
        "count": "3",
        "ratio": "0.5",
        "public": "true",
        "meta": '{"a":[1,"ü"]}',
        "tags": '["x","y"]',
        "source": "agent",  # fixed_body fields are parts too
    }
    for name in texts:
        assert parts[name].get_filename() is None
        assert "content-type" not in parts[name]  # a text part, as a browser sends it
    assert json.loads(texts["meta"]) == {"a": [1, "ü"]}


async def test_json_stays_the_default(url: str, schema_checker: SchemaChecker) -> None:
    result = await call(url, schema_checker, "create_a_shop_note", {"text": AWKWARD})
    assert not result.is_error, result.content
    [seen] = Recorder.seen
    assert seen["content_type"] == "application/json"
    assert json.loads(seen["body"]) == {"text": AWKWARD}


async def test_bad_values_never_reach_the_upstream(url: str, schema_checker: SchemaChecker) -> None:
    cases = [
        # a bracket in a key would read as nesting upstream
        ("create_a_shop_charge", {"metadata": {"a[b]": "x"}}, "metadata: the key 'a[b]'"),
        # an untyped argument given an object, under a style that cannot write one
        ("create_a_shop_call", {"AccountSid": "AC1", "Anything": {"a": 1}}, "Anything: "),
        ("create_a_shop_call", {"AccountSid": "AC1", "Anything": [[1]]}, "Anything[0]: "),
        # not in the alphabet: a lenient decoder would skip it and send "Hello!"
        ("create_a_shop_upload", {"file": "SGVsbG8h!!!!"}, "file: not valid base64"),
    ]
    for tool, arguments, message in cases:
        result = await call(url, schema_checker, tool, arguments)
        assert result.is_error, (tool, arguments)
        assert result.structured_content["error"]["type"] == "invalid_arguments"
        assert message in result.content[0].text, result.content[0].text
    assert Recorder.seen == []


async def test_body_size_limit_counts_the_encoded_body(
    url: str, schema_checker: SchemaChecker
) -> None:
    # 30 "é" are 60 bytes of UTF-8 (66 as JSON) but 180 percent-encoded: over the limit.
    note = "é" * 30
    refused = await call(url, schema_checker, "create_a_shop_small_charge", {"note": note})
    assert refused.is_error
    size = len(urlencode({"note": note}))
    assert f"would be {size:,} bytes, above the upstream's limit of 120 bytes" in (
        refused.content[0].text
    )
    assert Recorder.seen == []
    sent = await call(url, schema_checker, "create_a_shop_small_charge", {"note": "é" * 15})
    assert not sent.is_error
    assert len(Recorder.seen[0]["body"]) == len(urlencode({"note": "é" * 15})) <= 120


# --- refused at load: named by file and key ---

METHOD = """\
name: bad
title: Bad
base_url: https://bad.invalid
resources:
  thing:
    methods:
      create:
        http: POST /things
        description: Make a thing.
{method}"""


def _load(tmp_path: Path, method: str) -> ConfigError:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "manifest.yaml").write_text(
        METHOD.format(method=textwrap.indent(textwrap.dedent(method), " " * 8))
    )
    with pytest.raises(ConfigError) as caught:
        load_registry([tmp_path])
    assert caught.value.file == str(folder / "manifest.yaml")
    return caught.value


@pytest.mark.parametrize(
    ("method", "path", "reason"),
    [
        (
            """
            body_encoding: form
            form_style: repeat
            body: {Config: {type: object, properties: {a: {type: string}}}}
            """,
            "resources.thing.methods.create.body.Config",
            "form_style repeat cannot send an object",
        ),
        (
            """
            body_encoding: form
            form_style: repeat
            body: {Rules: {type: array, items: {type: object}}}
            """,
            "resources.thing.methods.create.body.Rules",
            "form_style repeat cannot send an object",
        ),
        (
            """
            body_encoding: form
            form_style: repeat
            fixed_body: {Options: {a: 1}}
            """,
            "resources.thing.methods.create.fixed_body.Options",
            "cannot send it nested",
        ),
        (
            """
            body_encoding: form
            body: {Items: {type: array}}
            body_from: Items
            """,
            "resources.thing.methods.create.body_from",
            "JSON only, not form",
        ),
        (
            """
            body_encoding: multipart
            body: {Items: {type: array}}
            body_from: Items
            """,
            "resources.thing.methods.create.body_from",
            "JSON only, not multipart",
        ),
        (
            """
            body_encoding: xml
            """,
            "resources.thing.methods.create.body_encoding",
            "'json', 'form' or 'multipart' (got 'xml')",
        ),
        (
            """
            form_style: repeat
            """,
            "resources.thing.methods.create.form_style",
            "only for body_encoding form, not json",
        ),
        (
            """
            body_encoding: form
            form_style: brackets
            """,
            "resources.thing.methods.create.form_style",
            "(got 'brackets')",
        ),
        (
            """
            body_encoding: multipart
            body: {f: {type: string, contentEncoding: base64, contentMediaType: "a/b\\r\\nX: y"}}
            """,
            "resources.thing.methods.create.body.f.contentMediaType",
            "not a media type",
        ),
    ],
)
def test_bodies_an_encoding_cannot_send_are_refused_at_load(
    tmp_path: Path, method: str, path: str, reason: str
) -> None:
    error = _load(tmp_path, method)
    assert error.path == path
    assert reason in error.reason


def test_repeat_takes_arrays_of_scalars(tmp_path: Path) -> None:
    folder = tmp_path / "ok"
    folder.mkdir()
    method = textwrap.indent(
        "body_encoding: form\nform_style: repeat\n"
        "body: {Event: {type: array, items: {type: string}}, Flag: {type: boolean}}\n",
        " " * 8,
    )
    (folder / "manifest.yaml").write_text(METHOD.format(method=method).replace("bad", "ok"))
    tool = load_registry([tmp_path]).tool("create_a_ok_thing")
    assert tool is not None and (tool.body_encoding, tool.form_style) == ("form", "repeat")
