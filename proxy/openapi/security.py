"""Security schemes (and token-like header parameters) to credential profiles.

The profile shapes are the manifest's: `{header, secret, prefix}`, `{bearer: secret}`,
`{basic: {username, password}}` and `{query, secret}`. OAuth 2 and OpenID Connect become
bearer profiles: yamcp sends a token the account holds, and never runs the OAuth dance.
"""

from __future__ import annotations

import re
from typing import Any

from .naming import snake

CREDENTIAL_HEADER = re.compile(
    r"token|secret|auth|api[-_]?key|(?<!idempotency)[-_]key$|^key$", re.IGNORECASE
)


# "The API Key with format `Token token=<API_KEY>`" (PagerDuty), "in the form
# `Bearer <token>`": what comes before the placeholder is the header value's prefix.
_FORMAT = re.compile(
    r"(?:format|form|formatted as|as follows)[:\s]+`?(?P<prefix>[^`<>\n]*?)<[^<>`\n]+>`?",
    re.IGNORECASE,
)


def credential_format(description: str) -> str | None:
    """The prefix a scheme's description gives its value, `Token token=` or `Bearer `."""
    found = _FORMAT.search(description)
    if not found:
        return None
    prefix = found["prefix"].lstrip()
    if prefix and not re.fullmatch(r"[A-Za-z][\w.-]*( [\w.-]+=?)?[ =]?", prefix):
        return None  # prose, not a format
    return prefix


# Scheme names that say what the credential is, not how its value starts.
_GENERIC_SCHEME = re.compile(
    r"((api|access|auth|bearer|app|user|personal|private|secret|service|client)_?)*"
    r"(key|token|auth)(_?auth)?|"
    r"authorization|apikeyauth|api_?key_?header|header|jwt|default",
    re.IGNORECASE,
)


def scheme_word(scheme_name: str) -> str | None:
    """The word an Authorization value starts with, where the scheme's own name is one
    (Opsgenie's scheme `GenieKey`: `Authorization: GenieKey <key>`)."""
    if not re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", scheme_name):
        return None
    return None if _GENERIC_SCHEME.fullmatch(scheme_name) else scheme_name


class Profiles:
    """The credential profiles of one integration, deduplicated, with their review notes."""

    def __init__(self, integration: str) -> None:
        self.integration = integration
        self.profiles: dict[str, dict[str, Any]] = {}
        self.review: list[str] = []

    def _add(self, name: str, profile: dict[str, Any]) -> str:
        for existing, known in self.profiles.items():
            if known == profile:
                return existing
        base = name or "default"
        candidate, n = base, 2
        while candidate in self.profiles:
            candidate, n = f"{base}_{n}", n + 1
        self.profiles[candidate] = profile
        return candidate

    def _secret(self, key: str) -> str:
        name = re.sub(r"^x_", "", snake(key))
        if name.startswith(f"{self.integration}_") and name != f"{self.integration}_":
            name = name[len(self.integration) + 1 :]
        return "api_token" if name in ("authorization", "") else name

    def header(self, header: str, prefix: str = "", name: str | None = None) -> str:
        """A profile sending the secret in `header` (after `prefix`)."""
        if header.lower() == "authorization" and prefix.strip().lower() == "bearer":
            return self.bearer(name or "bearer", "api_key")
        secret = self._secret(header)
        profile: dict[str, Any] = {"header": header, "secret": secret}
        if prefix:
            profile["prefix"] = prefix
        for existing, known in self.profiles.items():
            if (
                str(known.get("header", "")).lower() == header.lower()
                and known.get("prefix", "") == prefix
            ):
                return existing
        return self._add(name or re.sub(r"_(token|key|api_key)$", "", secret) or secret, profile)

    def bearer(self, name: str, secret: str) -> str:
        return self._add(name, {"bearer": secret})

    def from_schemes(self, schemes: dict[str, dict[str, Any]], swagger: bool) -> dict[str, str]:
        """Security scheme name -> profile name, for the schemes yamcp can send."""
        mapped: dict[str, str] = {}
        for scheme_name, scheme in schemes.items():
            name = snake(scheme_name) or "auth"
            kind = str(scheme.get("type", "")).lower()
            http = str(scheme.get("scheme", "")).lower()
            where = scheme.get("in")
            if kind == "apikey" and where == "header" and scheme.get("name"):
                header = str(scheme["name"])
                prefix = credential_format(str(scheme.get("description") or ""))
                word = scheme_word(scheme_name) if header.lower() == "authorization" else None
                if prefix is None and word is not None:
                    prefix = f"{word} "
                    self.review.append(
                        f"security scheme {scheme_name}: an API key in Authorization with no "
                        f"stated format; sent as `{word} <key>`, the scheme's own name: "
                        "confirm in the API's docs"
                    )
                mapped[scheme_name] = self.header(header, prefix or "")
                if prefix is None and header.lower() == "authorization":
                    self.review.append(
                        f"security scheme {scheme_name}: an API key in Authorization with no "
                        "stated format; sent bare, with no scheme word (`Bearer`, `Token`, "
                        "...) before it: check the API's docs and set the profile's `prefix`"
                    )
            elif kind == "apikey" and where == "query" and scheme.get("name"):
                secret = snake(str(scheme["name"])) or "api_key"
                mapped[scheme_name] = self._add(
                    name, {"query": str(scheme["name"]), "secret": secret}
                )
            elif kind == "apikey":
                self.review.append(
                    f"security scheme {scheme_name}: an API key in a {where} cannot be sent; "
                    "left out"
                )
            elif (kind == "http" and http == "bearer") or kind in ("oauth2", "openidconnect"):
                oauth = kind != "http"
                mapped[scheme_name] = self.bearer(name, "access_token" if oauth else "api_key")
                if oauth:
                    self.review.append(
                        f"security scheme {scheme_name} ({scheme.get('type')}): sent as a bearer "
                        "token; the account must hold a token obtained outside yamcp"
                    )
            elif (kind == "http" and http == "basic") or (swagger and kind == "basic"):
                mapped[scheme_name] = self._add(
                    name, {"basic": {"username": "username", "password": "password"}}
                )
                self.review.append(
                    f"security scheme {scheme_name}: HTTP Basic; the account's `username` and "
                    "`password` secrets are what this API calls them (see its docs)"
                )
            else:
                self.review.append(
                    f"security scheme {scheme_name} ({scheme.get('type')} "
                    f"{scheme.get('scheme', '')}".rstrip()
                    + "): not supported; left out"
                )
        return mapped
