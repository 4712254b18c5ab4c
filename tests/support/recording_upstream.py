"""A recording fake of several real APIs, on loopback, for the real-spec tests.

Each API answers its list endpoint across two pages in that API's own paging shape and its
write endpoint with a body taken from the API's own document (example or schema):

* Resend: `GET /emails` with `limit` + `after`, answering `{object, has_more, data}`;
  `POST /emails` (JSON); `POST /contacts/imports` (multipart).
* DigitalOcean: `GET /v2/account/keys` with `per_page` (+ `page`), the next page's
  absolute URL at `links.pages.next`, the total at `meta.total`; `POST /v2/account/keys`.
* Twilio: `GET /2010-04-01/Accounts/{sid}/Messages.json` with `PageSize`, the next page's
  path at `next_page_uri` (relative to the host); `POST` of the same path (form-encoded).
* SendGrid: `GET /v3/marketing/lists` with `page_size` (+ `page_token`), the next page's
  absolute URL at `_metadata.next`, the count at `_metadata.count`; `POST` of the same path.
* Petstore: `GET /api/v3/pet/findByStatus` (a whole array), `POST /api/v3/pet` (JSON),
  `GET /api/v3/store/inventory`.
* Netlify: `GET /api/v1/sites` with `page` + `per_page`, answering a bare array and an RFC
  8288 `Link` header; `POST /api/v1/sites` (JSON).

* Slack: `GET /conversations.list` by `cursor` and `response_metadata.next_cursor`, every
  answer HTTP 200 with an `ok` flag; `POST /chat.postMessage` (form).
* Asana: `GET /projects` by an opaque `offset` token returned at `next_page.offset` (a
  number is refused, as Asana does), `opt_fields` read as one comma-separated value;
  `POST /tasks` (JSON, the object under `data`).
* Box: `GET /folders/{id}/items` by `marker` only with `usemarker=true` (else offset
  answers without `next_marker`); `GET /files/{id}` with the shared link only when
  `fields=shared_link` asks; `POST /upload/files/content` (multipart), the upload host.
* Opsgenie: `GET /v2/alerts` by `limit` + `offset`, the next page's absolute URL at
  `paging.next`; `POST /v2/alerts` answering 202 (the request is queued); both refuse an
  `Authorization` without the `GenieKey ` scheme word (401), as Opsgenie does.
* DigitalOcean databases: `GET` and `PATCH /v2/databases/{uuid}/config`.
* PagerDuty: `PUT /incidents/{id}` refused without a `From` header (error 2001), as the
  REST API does for writes that need the acting user.

Every request is recorded as it arrived (method, raw path and query, headers, body bytes)
so a test checks what reached the wire. Run it with `serving()`, which yields the fake.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

TWILIO_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    target: str  # path and query exactly as sent
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> list[tuple[str, str]]:
        """The form body as (key, value) pairs in order, repeated keys kept."""
        return parse_qsl(self.body.decode(), keep_blank_values=True, strict_parsing=True)

    def multipart(self) -> dict[str, tuple[str | None, str | None, bytes]]:
        """A multipart body: part name -> (filename, content type, bytes)."""
        head = f"content-type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        parts = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            parts[name] = (
                part.get_filename(),
                part.get("content-type"),
                part.get_payload(decode=True),
            )
        return parts


@dataclass
class Fake:
    url: str
    requests: list[Recorded] = field(default_factory=list)

    def reset(self) -> None:
        self.requests.clear()


# --- the APIs' data, in their own shapes (values from each document's examples) ---

RESEND_EMAILS = [
    {
        "id": f"4ef9a417-02e9-4d39-ad75-9611e0fcc33{i}",
        "to": ["delivered@resend.dev"],
        "from": "Acme <onboarding@resend.dev>",
        "created_at": "2023-04-03T22:13:42.674981+00:00",
        "subject": f"Hello World {i}",
        "bcc": None,
        "cc": None,
        "reply_to": None,
        "last_event": "delivered",
        "scheduled_at": None,
    }
    for i in range(3)
]

DO_KEYS = [
    {
        "id": 289794 + i,
        "fingerprint": f"3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:4{i}",
        "public_key": "ssh-rsa ANOTHEREXAMPLEaC1yc2EAAAADAQABAAAAQQDDHr/jh2Jy4yALcK4Jy example",
        "name": f"Public Key {i}",
    }
    for i in range(3)
]


def _twilio_message(i: int) -> dict[str, Any]:
    sid = f"SMded05904ccb347238880ca9264e8fe1{i}"
    base = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}"
    return {
        "account_sid": TWILIO_SID,
        "api_version": "2010-04-01",
        "body": f"testing {i}",
        "date_created": "Fri, 24 May 2019 17:44:46 +0000",
        "direction": "outbound-api",
        "from": "+12019235161",
        "sid": sid,
        "status": "sent",
        "to": "+18182008801",
        "uri": f"{base}.json",
        "subresource_uris": {"media": f"{base}/Media.json"},
    }


TWILIO_MESSAGES = [_twilio_message(i) for i in range(3)]

SENDGRID_LISTS = [
    {
        "id": f"abc12312-x3y4-1234-abcd-123qwe456rt{i}",
        "name": f"list-name-{i}",
        "contact_count": i,
        "_metadata": {
            "self": f"https://api.sendgrid.com/v3/marketing/lists/abc12312-x3y4-1234-abcd-123qwe456rt{i}"
        },
    }
    for i in range(3)
]

PETS = [
    {
        "id": 10 + i,
        "name": name,
        "category": {"id": 1, "name": "Dogs"},
        "photoUrls": ["string"],
        "tags": [],
        "status": "available",
    }
    for i, name in enumerate(["doggie", "fido", "rex"])
]

NETLIFY_SITES = [
    {
        "id": f"3970e0fe-8564-4903-9a55-c5f8de49fb8{i}",
        "name": f"site-{i}",
        "url": f"https://site-{i}.netlify.app",
        "state": "current",
    }
    for i in range(3)
]


SLACK_CHANNELS = [
    {"id": f"C012AB3C{i}", "name": f"general-{i}", "is_channel": True, "created": 1449252889}
    for i in range(3)
]


ASANA_PROJECTS = [
    {"gid": f"12040000000{i}", "resource_type": "project", "name": f"Stuff to buy {i}"}
    for i in range(3)
]

OPSGENIE_ALERTS = [
    {"id": f"70413a06-38d6-4c85-92b8-5ebc900d42e{i}", "tinyId": str(1791 + i),
     "message": f"Disk usage {90 + i}%", "status": "open", "priority": "P3"}
    for i in range(3)
]  # fmt: skip

BOX_ITEMS = [
    {"id": f"1234567{i}", "type": "file", "etag": "1", "name": f"Contract {i}.pdf"}
    for i in range(3)
]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # quiet: the tests read the recording
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        rec = Recorded(self.command, self.path, headers, body)
        self.server.fake.requests.append(rec)
        return rec

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._route(self._record())

    def do_POST(self) -> None:
        self._route(self._record())

    def do_PUT(self) -> None:
        self._route(self._record())

    def do_PATCH(self) -> None:
        self._route(self._record())

    def _route(self, rec: Recorded) -> None:
        q = {k: v[-1] for k, v in parse_qs(urlsplit(rec.target).query).items()}
        base = self.server.fake.url
        route = (rec.method, rec.path)
        if route == ("GET", "/emails"):
            self._resend_list(q)
        elif route == ("POST", "/emails"):
            self._send(200, {"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"})
        elif route == ("GET", "/contacts"):  # items without the `id` a guess would page by
            contact = {"email": "steve.wozniak@gmail.com", "first_name": "Steve"}
            self._send(200, {"object": "list", "has_more": True, "data": [contact]})
        elif route == ("POST", "/contacts/imports"):
            answer = {"object": "contact_import", "id": "479e3145-dd38-476b-932c-529ceb705947"}
            self._send(201, answer)
        elif route == ("GET", "/v2/account/keys"):
            self._do_list(q, base)
        elif route == ("POST", "/v2/account/keys"):
            sent = rec.json()
            key = {"id": 512190, "fingerprint": "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"}
            self._send(201, {"ssh_key": {**key, **sent}})
        elif rec.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
            if rec.method == "GET":
                self._twilio_list(q)
            else:
                form = dict(rec.form())
                message = {**TWILIO_MESSAGES[0], "body": form.get("Body"), "status": "queued"}
                self._send(201, {**message, "to": form.get("To"), "from": form.get("From")})
        elif route == ("GET", "/v3/marketing/lists"):
            self._sendgrid_list(q, base)
        elif route == ("POST", "/v3/marketing/lists"):
            made = {"id": "ca7a3796-e8a8-4029-9ccb-df8937940562", "contact_count": 0}
            self._send(201, {**made, "name": rec.json().get("name")})
        elif route == ("GET", "/api/v3/pet/findByStatus"):
            self._send(200, [p for p in PETS if p["status"] == q.get("status", "available")])
        elif route == ("POST", "/api/v3/pet"):
            self._send(200, rec.json())
        elif route == ("GET", "/api/v3/store/inventory"):
            self._send(200, {"approved": 57, "placed": 100, "delivered": 50})
        elif route == ("GET", "/conversations.list"):
            self._slack_channels(q)
        elif route == ("POST", "/chat.postMessage"):
            self._slack_post(dict(rec.form()))
        elif route == ("GET", "/api/v1/sites"):
            self._netlify_list(q, base)
        elif route == ("POST", "/api/v1/sites"):
            self._send(201, {**NETLIFY_SITES[0], **rec.json(), "id": "new-site-id"})
        elif route == ("POST", "/store/order"):  # Petstore's store needs no credential
            self._send(200, {**rec.json(), "status": "placed"})
        elif route == ("GET", "/projects"):
            self._asana_projects(rec)
        elif route == ("POST", "/tasks"):
            task = {"gid": "12345", "resource_type": "task", **rec.json()["data"]}
            self._send(201, {"data": task})
        elif route == ("GET", "/folders/0/items"):
            self._box_items(q)
        elif rec.method == "GET" and rec.path.startswith("/files/"):
            file = {"type": "file", "id": rec.path.rsplit("/", 1)[-1], "etag": "1"}
            if q.get("fields") == "shared_link":  # Box sends only the fields asked for
                file["shared_link"] = {"url": "https://app.box.com/s/vspke7y05sb214wjokpk"}
            self._send(200, file)
        elif route == ("POST", "/upload/files/content"):
            name = json.loads(rec.multipart()["attributes"][2])["name"]
            self._send(201, {"total_count": 1, "entries": [{**BOX_ITEMS[0], "name": name}]})
        elif rec.path.startswith("/v2/alerts") and not rec.headers.get(
            "authorization", ""
        ).startswith("GenieKey "):
            self._send(401, {"message": "Could not authenticate", "took": 0.0,
                             "requestId": "6e9c5c4a-3d92-4d2b-9c33-2b1e7c2a5f70"})  # fmt: skip
        elif route == ("GET", "/v2/alerts"):
            self._opsgenie_alerts(q, base)
        elif route == ("POST", "/v2/alerts"):
            self._send(202, {"result": "Request will be processed", "took": 0.302,
                             "requestId": "43a29c5c-3dbf-4fa4-9c26-f4f71023e120"})  # fmt: skip
        elif rec.path.startswith("/v2/databases/") and rec.path.endswith("/config"):
            if rec.method == "GET":
                config = {"sql_mode": "ANSI,ERROR_FOR_DIVISION_BY_ZERO", "sql_require_primary_key": True}  # fmt: skip
                self._send(200, {"config": config})
            else:
                self._send(200, {})
        elif rec.method == "PUT" and rec.path.startswith("/incidents/"):
            self._pagerduty_update(rec)
        else:
            self._send(404, {"message": f"no route {rec.method} {rec.path}"})

    def _asana_projects(self, rec: Recorded) -> None:
        q = dict(rec.query)
        if [k for k, _ in rec.query].count("opt_fields") > 1:
            # Asana reads one comma-separated value; a repeated key keeps only the last.
            self._send(400, {"errors": [{"message": "opt_fields: repeated; use commas"}]})
            return
        limit = int(q.get("limit", 50))
        start = 0
        if "offset" in q:
            if not q["offset"].startswith("eyJ"):  # an opaque token, never a number
                self._send(400, {"errors": [{"message": "offset: Your pagination token is invalid."}]})  # fmt: skip
                return
            start = int(q["offset"].removeprefix("eyJ"))
        page = ASANA_PROJECTS[start : start + limit]
        if "opt_fields" in q:
            asked = q["opt_fields"].split(",")
            page = [{**p, **{f: None for f in asked if f not in p}} for p in page]
        next_page = None
        if start + limit < len(ASANA_PROJECTS):
            token = f"eyJ{start + limit}"
            path = f"/projects?limit={limit}&offset={token}"
            next_page = {"offset": token, "path": path, "uri": f"https://app.asana.com/api/1.0{path}"}  # fmt: skip
        self._send(200, {"data": page, "next_page": next_page})

    def _opsgenie_alerts(self, q: dict[str, str], base: str) -> None:
        limit, offset = int(q.get("limit", 20)), int(q.get("offset", 0))
        paging = {"first": f"{base}/v2/alerts?limit={limit}&offset=0&sort=createdAt&order=desc"}
        if offset + limit < len(OPSGENIE_ALERTS):
            paging["next"] = (
                f"{base}/v2/alerts?limit={limit}&offset={offset + limit}&sort=createdAt&order=desc"
            )
        page = OPSGENIE_ALERTS[offset : offset + limit]
        self._send(200, {"data": page, "paging": paging, "took": 0.605,
                         "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"})  # fmt: skip

    def _box_items(self, q: dict[str, str]) -> None:
        limit = int(q.get("limit", 100))
        if q.get("usemarker") != "true":
            if "marker" in q:
                self._send(400, {"type": "error", "status": 400, "code": "bad_request",
                                 "message": "marker requires usemarker=true"})  # fmt: skip
                return
            start = int(q.get("offset", 0))
            page = BOX_ITEMS[start : start + limit]
            self._send(200, {"total_count": len(BOX_ITEMS), "entries": page, "offset": start,
                             "limit": limit})  # fmt: skip
            return
        start = int(q["marker"].removeprefix("JV9IRGZmieiBasejOG9yDCRNgd2ymoZIbjsxbJMjIs3kioVii")) if q.get("marker") else 0  # fmt: skip
        page = BOX_ITEMS[start : start + limit]
        more = start + limit < len(BOX_ITEMS)
        marker = f"JV9IRGZmieiBasejOG9yDCRNgd2ymoZIbjsxbJMjIs3kioVii{start + limit}" if more else None  # fmt: skip
        self._send(200, {"entries": page, "limit": limit, "next_marker": marker})

    def _pagerduty_update(self, rec: Recorded) -> None:
        if "from" not in rec.headers:
            message = 'You must specify a user\'s email address in the "From" header'
            self._send(400, {"error": {"message": message, "code": 2001}})
            return
        incident = {"id": rec.path.rsplit("/", 1)[-1], "type": "incident",
                    **rec.json()["incident"]}  # fmt: skip
        self._send(200, {"incident": incident})

    def _slack_channels(self, q: dict[str, str]) -> None:
        # Slack pages by `cursor`, the next one in response_metadata.next_cursor ("" at the
        # end), and answers every call with HTTP 200 and an `ok` flag.
        limit = int(q.get("limit", 100))
        start = int(q["cursor"].removeprefix("dGVhbTpD")) if q.get("cursor") else 0
        page = SLACK_CHANNELS[start : start + limit]
        more = start + limit < len(SLACK_CHANNELS)
        cursor = f"dGVhbTpD{start + limit}" if more else ""
        self._send(
            200, {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}
        )

    def _slack_post(self, form: dict[str, str]) -> None:
        if form.get("channel") != SLACK_CHANNELS[0]["id"]:
            self._send(200, {"ok": False, "error": "channel_not_found"})
            return
        message = {"type": "message", "text": form.get("text"), "ts": "1503435956.000247"}
        answer = {"ok": True, "channel": form["channel"], "ts": message["ts"], "message": message}
        self._send(200, answer)

    def _resend_list(self, q: dict[str, str]) -> None:
        limit = int(q.get("limit", 20))
        start = 0
        if "after" in q:
            start = 1 + [e["id"] for e in RESEND_EMAILS].index(q["after"])
        page = RESEND_EMAILS[start : start + limit]
        more = start + limit < len(RESEND_EMAILS)
        self._send(200, {"object": "list", "has_more": more, "data": page})

    def _do_list(self, q: dict[str, str], base: str) -> None:
        per_page, page = int(q.get("per_page", 20)), int(q.get("page", 1))
        start = (page - 1) * per_page
        pages: dict[str, str] = {}
        last = -(-len(DO_KEYS) // per_page)
        if page < last:
            pages["last"] = f"{base}/v2/account/keys?page={last}&per_page={per_page}"
            pages["next"] = f"{base}/v2/account/keys?page={page + 1}&per_page={per_page}"
        if page > 1:
            pages["first"] = f"{base}/v2/account/keys?page=1&per_page={per_page}"
            pages["prev"] = f"{base}/v2/account/keys?page={page - 1}&per_page={per_page}"
        body = {
            "ssh_keys": DO_KEYS[start : start + per_page],
            "links": {"pages": pages},
            "meta": {"total": len(DO_KEYS)},
        }
        self._send(200, body)

    def _twilio_list(self, q: dict[str, str]) -> None:
        size, page = int(q.get("PageSize", 50)), int(q.get("Page", 0))
        start = page * size
        path = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        # Twilio's page URIs carry the list's filters (its own example: To, From, DateSent>).
        if "To" in q:
            path += "?To=" + quote(q["To"], safe="") + "&"
        else:
            path += "?"
        more = start + size < len(TWILIO_MESSAGES)
        body = {
            "messages": TWILIO_MESSAGES[start : start + size],
            "first_page_uri": f"{path}PageSize={size}&Page=0",
            "next_page_uri": (
                f"{path}PageSize={size}&Page={page + 1}&PageToken=PASM{start + size}"
                if more
                else None
            ),
            "previous_page_uri": None if page == 0 else f"{path}PageSize={size}&Page={page - 1}",
            "page": page,
            "page_size": size,
            "start": start,
            "end": min(start + size, len(TWILIO_MESSAGES)) - 1,
            "uri": f"{path}PageSize={size}&Page={page}",
        }
        self._send(200, body)

    def _sendgrid_list(self, q: dict[str, str], base: str) -> None:
        size = int(q.get("page_size", 100))
        start = int(q["page_token"].removeprefix("PT")) if q.get("page_token") else 0
        here = f"{base}/v3/marketing/lists?page_size={size}"
        metadata = {"self": f"{here}&page_token={q.get('page_token', '')}", "count": 3}
        if start + size < len(SENDGRID_LISTS):
            metadata["next"] = f"{here}&page_token=PT{start + size}"
        if start:
            metadata["prev"] = f"{here}&page_token=PT{max(start - size, 0)}"
        self._send(200, {"result": SENDGRID_LISTS[start : start + size], "_metadata": metadata})

    def _netlify_list(self, q: dict[str, str], base: str) -> None:
        per_page, page = int(q.get("per_page", 100)), int(q.get("page", 1))
        start = (page - 1) * per_page
        last = -(-len(NETLIFY_SITES) // per_page)
        links = []
        if page < last:
            links.append(f'<{base}/api/v1/sites?page={page + 1}&per_page={per_page}>; rel="next"')
            links.append(f'<{base}/api/v1/sites?page={last}&per_page={per_page}>; rel="last"')
        if page > 1:
            links.append(f'<{base}/api/v1/sites?page=1&per_page={per_page}>; rel="first"')
            links.append(f'<{base}/api/v1/sites?page={page - 1}&per_page={per_page}>; rel="prev"')
        headers = {"link": ", ".join(links)} if links else {}
        self._send(200, NETLIFY_SITES[start : start + per_page], headers)


class _Server(ThreadingHTTPServer):
    fake: Fake


@contextmanager
def serving() -> Iterator[Fake]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = Fake(f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
