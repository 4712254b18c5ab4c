"""The shell of yamcp's server-rendered pages (the OAuth sign-in, the approval review):
plain HTML and one stylesheet, no script, no cookie, and the headers that keep them so."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, Response

STYLESHEET = Path(__file__).resolve().parent / "static" / "pages.css"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · yamcp</title>
<link rel="stylesheet" href="/pages.css">
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def page_headers(form_action: str = "") -> dict[str, str]:
    csp = (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action 'self'{form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        # Not no-referrer: Chromium then sends `Origin: null` on the form's own POST. The
        # page's URL carries the server's token, so it must not go to another origin.
        "referrer-policy": "same-origin",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "cache-control": "no-store",
    }


def same_origin(request: Request, issuer: str) -> bool:
    origin = request.headers.get("origin")
    expected = urlsplit(issuer)
    if origin is None or origin == "null":  # a privacy setting may hide it: ask Fetch Metadata
        return request.headers.get("sec-fetch-site") == "same-origin"
    return origin.rstrip("/").lower() == f"{expected.scheme}://{expected.netloc}".lower()


async def stylesheet(request: Request) -> Response:
    """`/pages.css`, the one stylesheet of every page here."""
    return FileResponse(
        STYLESHEET,
        media_type="text/css",
        headers={"x-content-type-options": "nosniff", "cache-control": "no-cache"},
    )
