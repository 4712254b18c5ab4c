"""A stateful, in-memory Postmark: the sandbox of `yamcp serve --sandbox`, and the tests' fake.

This is Postmark's Server and Account APIs as an ASGI app holding seeded data in memory:
bounces of several types (a mailbox-full soft bounce that can be reactivated, with the raw
SMTP dump that says so; hard bounces; a spam complaint; ...), delivery statistics, message
streams of each type, templates (one with a layout and an `{{#each}}`), sent and received
messages, webhooks, suppressions, servers, domains and sender signatures. It is stateful:
a send is listed among the outbound messages under the MessageID it answered, an activation
flips the bounce's `Inactive`, a template edit changes what the next templated send renders.
It never makes a network call of its own.

Two users, one simulator:

* `yamcp serve --sandbox` (the manifest's `sandbox:` is ../sandbox.py, which hands out this
  package's `sandbox_app()` and `CREDENTIALS`) serves it on loopback and points an account
  at it; nothing leaves the machine.
* `tests/support/fake_postmark.py` wraps it in a test harness (a uvicorn thread, request records,
  injected faults) and the proxy's tests run against it.

Why it is this detailed: a fake that answers `{}` would let the manifest drift from
Postmark unnoticed. Request and response shapes, auth headers, paging limits and ErrorCodes
follow our Postmark reference notes, whose files the tests read from tests/data/postmark/
(endpoints.tsv, errors.tsv, examples/*.json); the seeded data (seed.yaml) copies the example
bodies, so tests can compare answers with them.

It is as strict as Postmark at the door (app.py), so a proxy that sends sloppy requests
fails here and not in production:

* tokens: the header for the endpoint's kind (server or account) must carry exactly the
  token; only letter case may differ ("The header name and value are case insensitive",
  Postmark's API overview). A missing, wrong, padded or doubled token is 401, ErrorCode 10.
* media types: an `Accept` that rules out application/json, or a body whose `Content-Type`
  is missing or not application/json, is HTTP 415 ("check that the documented request
  headers are being passed (Content-Type and Accept)", Postmark's 2023 validation notice),
  with ErrorCode 409, "JSON required". No `Accept` at all means any type (RFC 9110).

Templates are checked and rendered by ../mustachio.py, the rules of Postmark's engine
(Mustachio) that the send checks use too: a path is read from the current context only
(`../` steps to the context it was read from), `{{#x}}` renders its content once with x's
value (no iteration), `{{#each x}}` over a value that is not a list fails to render, and
`{{{ pm:... }}}` / `{{{@content}}}` are Postmark's placeholders, not model variables.

Routing is case-insensitive and JSON keys are read case-insensitively, as Postmark does.
The modules: app (the door, the route table, the ASGI app), routing, call (what a handler
gets and how it reads a request), crud (handlers shared by the tables keyed by ID), state,
records (record shapes and the seed), and one module per area of Postmark's API.
"""

from .app import (
    CREDENTIALS,
    ROUTES,
    PostmarkSimulator,
    dispatch,
    json_response,
    request_parts,
    sandbox_app,
)
from .call import ApiError
from .records import (
    BOUNCE_TYPES,
    BULK_ID,
    INBOUND_BLOCKED_ID,
    INBOUND_FAILED_ID,
    INBOUND_PROCESSED_ID,
    MAILBOX_FULL_BOUNCE_ID,
    NEWSLETTER_MESSAGE_ID,
    ORDER_MESSAGE_ID,
    RECEIPT_MESSAGE_ID,
    RESET_MESSAGE_ID,
    SEED_BOUNCES,
    SEED_OUTBOUND,
    SEED_STREAMS,
    SEED_TEMPLATES,
    SERVER_ID,
    TEST_TOKEN,
    WELCOME_MESSAGE_ID,
)
from .state import PostmarkState, seed_state

__all__ = [
    "BOUNCE_TYPES",
    "BULK_ID",
    "CREDENTIALS",
    "INBOUND_BLOCKED_ID",
    "INBOUND_FAILED_ID",
    "INBOUND_PROCESSED_ID",
    "MAILBOX_FULL_BOUNCE_ID",
    "NEWSLETTER_MESSAGE_ID",
    "ORDER_MESSAGE_ID",
    "RECEIPT_MESSAGE_ID",
    "RESET_MESSAGE_ID",
    "ROUTES",
    "SEED_BOUNCES",
    "SEED_OUTBOUND",
    "SEED_STREAMS",
    "SEED_TEMPLATES",
    "SERVER_ID",
    "TEST_TOKEN",
    "WELCOME_MESSAGE_ID",
    "ApiError",
    "PostmarkSimulator",
    "PostmarkState",
    "dispatch",
    "json_response",
    "request_parts",
    "sandbox_app",
    "seed_state",
]
