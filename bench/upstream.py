"""The benchmark's fake Postmark: `GET /bounces` answered with Postmark's shape.

A small Starlette service on uvicorn, the same one for the direct run and behind both
proxies. Run: python bench/upstream.py PORT
"""

from __future__ import annotations

import json
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BOUNCE = {
    "RecordType": "Bounce",
    "ID": 692560173,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "welcome",
    "MessageID": "d12c2f1c-60f3-4258-b163-d17052546ae4",
    "ServerID": 23,
    "MessageStream": "outbound",
    "Description": "The server was unable to deliver your message (ex: unknown user).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jim@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2024-01-15T16:09:19.6421112-05:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Hello from our app!",
}
BODY = json.dumps({"TotalCount": 253, "Bounces": [BOUNCE, BOUNCE]}).encode()
UNAUTHORIZED = b'{"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied."}'


async def bounces(request: Request) -> Response:
    if request.headers.get("x-postmark-server-token") is None:
        return Response(UNAUTHORIZED, 401, media_type="application/json")
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/bounces", bounces)])


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning")
