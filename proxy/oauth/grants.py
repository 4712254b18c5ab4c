"""Authorization codes, access and refresh tokens: opaque, random, kept only as hashes.

A *grant* is one person's approval: one client, one server URL, one API token. Codes,
access tokens and refresh tokens each point at their grant, and every use checks the
grant is alive, its server the one called, and its API token not revoked. So revoking the
API token, the server or its account ends every token of it on every instance at once,
and revoking a refresh token (or replaying a rotated one) ends the whole grant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import GrantError
from ..store import Store, utcnow
from ..tokens import hash_token, new_id, new_token
from .metadata import SCOPE, resource_url

CODE_SECONDS = 120  # RFC 6749 4.1.2: short; a code is spent within seconds of the redirect


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    client_id: str
    server_id: str
    api_token_id: str
    resource_hash: str
    expires_at: datetime

    def data(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "server_id": self.server_id,
            "api_token_id": self.api_token_id,
            "resource_hash": self.resource_hash,
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def of(cls, grant_id: str, data: dict[str, str]) -> Grant:
        return cls(
            id=grant_id,
            client_id=data["client_id"],
            server_id=data["server_id"],
            api_token_id=data["api_token_id"],
            resource_hash=data["resource_hash"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
        )


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int

    def response(self) -> dict[str, str | int]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": SCOPE,
        }


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding equals the challenge."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


def hash_resource(resource: str) -> str:
    # The resource is a server URL and carries its token: only its hash is kept.
    return hash_token(resource)


async def issue_code(
    store: Store,
    *,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
    server_id: str,
    api_token_id: str,
    resource: str,
    expires_at: datetime,
) -> str:
    """After the person approved: a grant, and a single-use code that redeems it."""
    grant = Grant(
        id=new_id("grant"),
        client_id=client_id,
        server_id=server_id,
        api_token_id=api_token_id,
        resource_hash=hash_resource(resource),
        expires_at=expires_at,
    )
    await store.put_oauth("grant", grant.id, grant.data(), expires_at, api_token_id)
    code = new_token()
    until = min(utcnow() + timedelta(seconds=CODE_SECONDS), expires_at)
    await store.put_oauth(
        "code",
        hash_token(code),
        {"grant": grant.id, "redirect_uri": redirect_uri, "code_challenge": code_challenge},
        until,
        api_token_id,
    )
    return code


async def _grant(store: Store, grant_id: str) -> Grant | None:
    """The grant if it still holds: not revoked, its API token (and so its server) alive."""
    data = await store.get_oauth("grant", grant_id)
    if data is None:
        return None
    grant = Grant.of(grant_id, data)
    if not await store.api_token_alive(grant.server_id, grant.api_token_id):
        await store.delete_oauth("grant", grant_id)
        return None
    return grant


async def _tokens(store: Store, grant: Grant, access_seconds: int) -> Tokens:
    now = utcnow()
    access, refresh = new_token(), new_token()
    access_until = min(now + timedelta(seconds=access_seconds), grant.expires_at)
    link, api_token = {"grant": grant.id}, grant.api_token_id
    await store.put_oauth("access", hash_token(access), link, access_until, api_token)
    await store.put_oauth("refresh", hash_token(refresh), link, grant.expires_at, api_token)
    return Tokens(access, refresh, max(1, int((access_until - now).total_seconds())))


async def redeem_code(
    store: Store,
    *,
    code: str,
    client_id: str,
    redirect_uri: str,
    verifier: str,
    resource: str | None,
    access_seconds: int,
) -> Tokens:
    """The authorization_code grant. A code is taken before it is checked, so a wrong
    verifier or a replay spends it: a stolen code is worth one guess (RFC 6749 4.1.2)."""
    key = hash_token(code)
    found = await store.take_oauth("code", key)
    if found is None:
        # A code used twice was intercepted: end what the first use obtained (RFC 6749 4.1.2).
        spent = await store.get_oauth("spent", key)
        if spent is not None:
            await store.delete_oauth("grant", spent["grant"])
        raise GrantError("invalid_grant", "The code is unknown, expired or already used.")
    grant = await _grant(store, found["grant"])
    if grant is not None:
        await store.put_oauth(
            "spent", key, {"grant": grant.id}, grant.expires_at, grant.api_token_id
        )
    if grant is None or grant.client_id != client_id:
        raise GrantError("invalid_grant", "The code was not issued to this client.")
    if not hmac.compare_digest(found["redirect_uri"], redirect_uri):
        raise GrantError("invalid_grant", "redirect_uri differs from the authorization request's.")
    if not pkce_matches(verifier, found["code_challenge"]):
        await store.delete_oauth("grant", grant.id)
        raise GrantError("invalid_grant", "code_verifier does not match the code_challenge.")
    if resource is not None and not hmac.compare_digest(
        hash_resource(resource), grant.resource_hash
    ):
        raise GrantError("invalid_target", "resource differs from the one authorized.")
    return await _tokens(store, grant, access_seconds)


async def refresh(
    store: Store, *, token: str, client_id: str, resource: str | None, access_seconds: int
) -> Tokens:
    """The refresh_token grant, rotating: the old refresh token is spent. Presenting a
    spent one again means it leaked, so the grant it belonged to ends (OAuth 2.1 4.3.1)."""
    key = hash_token(token)
    found = await store.take_oauth("refresh", key)
    if found is None:
        spent = await store.get_oauth("spent", key)
        if spent is not None:
            await store.delete_oauth("grant", spent["grant"])
        raise GrantError("invalid_grant", "The refresh token is unknown, expired or revoked.")
    grant = await _grant(store, found["grant"])
    if grant is None:
        raise GrantError("invalid_grant", "The refresh token is unknown, expired or revoked.")
    if grant.client_id != client_id:
        raise GrantError("invalid_grant", "The refresh token was not issued to this client.")
    if resource is not None and not hmac.compare_digest(
        hash_resource(resource), grant.resource_hash
    ):
        raise GrantError("invalid_target", "resource differs from the one authorized.")
    await store.put_oauth("spent", key, {"grant": grant.id}, grant.expires_at, grant.api_token_id)
    return await _tokens(store, grant, access_seconds)


async def revoke(store: Store, token: str, client_id: str) -> None:
    """RFC 7009: an access token goes alone; a refresh token takes its grant, and with it
    every access token issued under it. Unknown tokens and other clients' are ignored."""
    key = hash_token(token)
    for kind in ("refresh", "access"):
        found = await store.get_oauth(kind, key)
        if found is None:
            continue
        grant = await store.get_oauth("grant", found["grant"])
        if grant is None or grant["client_id"] != client_id:
            return
        await store.delete_oauth(kind, key)
        if kind == "refresh":
            await store.delete_oauth("grant", found["grant"])
        return


async def access_token_ok(
    store: Store, token: str, server_id: str, public_url: str, url_token: str
) -> bool:
    """Whether `token` is a live access token issued for exactly this server URL."""
    found = await store.get_oauth("access", hash_token(token))
    if found is None:
        return False
    grant = await _grant(store, found["grant"])
    if grant is None or grant.server_id != server_id:
        return False
    return hmac.compare_digest(
        grant.resource_hash, hash_resource(resource_url(public_url, url_token))
    )
