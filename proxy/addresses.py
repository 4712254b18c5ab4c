"""Email address lists, parsed rather than pattern-matched: the `email_domains` constraint.

A regex per comma-separated part let "evil@x.org;a@example.com" and header-injection
newlines through. Fail closed: a value is accepted only when every entry between
separators is one plain address that Python's strict (`email.policy.default`) parser
reads without a defect, and every domain in it, normalised (lower case, IDNA), is on the
allow-list.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.policy import default as _email_policy
from functools import lru_cache
from typing import Any

from .errors import AddressListError

_HOSTNAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# control, format (bidi, zero-width), surrogate, private, unassigned, line/paragraph separators
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Address-looking text anywhere, quotes and display names included: a downstream parser
# that splits differently must not find a recipient outside the allow-list either.
_MENTION = re.compile(r'([^\s<>()\[\],;:"@\\]*)@([^\s<>()\[\],;:"@\\]+)')
_CACHE_MAX_CHARS = 2048
# The common shapes, `a.b@example.com` and `Jane Doe <a.b@example.com>` in plain ASCII
# atoms, read without the email parser (about 200 µs an address); anything else, quotes
# and encoded words included, goes to the parser. A test holds the two to the same answer.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(
    rf"(?:(?:{_ATOM}(?: +{_ATOM})*) *<(?P<angled>{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*)>"
    rf"|(?P<bare>{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*))"
)


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _address_domain(domain: str) -> str | None:
    """A domain as DNS sees it: lower case, IDNA (punycode) for Unicode labels; None when
    it is not a host name, or when a Unicode label would fold into ASCII (fullwidth
    letters, ideographic full stops), which a lookalike could exploit."""
    d = domain.lower()
    if not d.isascii():
        try:
            encoded = d.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        labels, ascii_labels = d.split("."), encoded.split(".")
        if len(labels) != len(ascii_labels):
            return None
        for label, ascii_label in zip(labels, ascii_labels, strict=True):
            kept = label == ascii_label if label.isascii() else ascii_label.startswith("xn--")
            if not kept:
                return None
        d = encoded
    return d if len(d) <= 253 and _HOSTNAME.fullmatch(d) else None


def allowed_domain(entry: str) -> str | None:
    """An allow-list entry, normalised: `example.com` or `*.example.com`; None if neither."""
    text = entry.strip().lower().rstrip(".")
    wildcard = text.startswith("*.")
    domain = _address_domain(text[2:] if wildcard else text)
    if domain is None:
        return None
    return f"*.{domain}" if wildcard else domain


def _unsafe_character(value: str) -> str | None:
    if value.isascii():
        match = _ASCII_CONTROL.search(value)
        return match.group() if match else None
    return next((ch for ch in value if unicodedata.category(ch) in _UNSAFE), None)


def _entries(value: str) -> list[str]:
    """Split at commas and semicolons outside quoted strings and angle brackets."""
    entries, start, quoted, escaped, angle = [], 0, False, False, False
    for index, ch in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            raise AddressListError("has a comment (...): give the address without it")
        elif ch == ":":
            raise AddressListError("has ':' outside quotes (group or route syntax)")
        elif ch == "<":
            if angle:
                raise AddressListError("has a '<' inside <...>")
            angle = True
        elif ch == ">":
            if not angle:
                raise AddressListError("has a '>' without its '<'")
            angle = False
        elif ch in ",;" and not angle:
            entries.append(value[start:index])
            start = index + 1
    if quoted:
        raise AddressListError("has an unterminated quoted string")
    if angle:
        raise AddressListError("has a '<' without its '>'")
    entries.append(value[start:])
    return entries


Parsed = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str | None], ...]]


def _parse(value: str) -> Parsed | str:
    """The addresses and mentions of `value`, or why it is refused (cached either way)."""
    try:
        return _parse_or_raise(value)
    except AddressListError as exc:
        return str(exc)


def _parse_or_raise(value: str, fast: bool = True) -> Parsed:
    unsafe = _unsafe_character(value)
    if unsafe is not None:
        raise AddressListError(f"has a control character {unsafe!r}")
    entries = _entries(value)
    if not any(entry.strip() for entry in entries):
        raise AddressListError("has no address")
    addresses = []
    for entry in entries:
        text = entry.strip()
        if not text:
            raise AddressListError("has an empty entry (two separators in a row, or one at an end)")
        plain = _PLAIN.fullmatch(text) if fast and "=?" not in text else None
        if plain is not None:
            spec = plain.group("angled") or plain.group("bare")
            domain = _address_domain(spec.rpartition("@")[2])
            if domain is not None:
                addresses.append((spec, domain))
                continue
        what = "is" if text == value.strip() else f"has {_short(text)},"
        try:
            header = _email_policy.header_factory("to", entry)
        except Exception:  # the parser's own errors (IndexError on "a@", say): refuse
            raise AddressListError(f"{what} not an address") from None
        if header.defects:
            raise AddressListError(f"{what} not one plain address ({header.defects[0]})")
        if len(header.groups) != 1 or header.groups[0].display_name is not None:
            raise AddressListError("uses group syntax (name: ...;)")
        if len(header.groups[0].addresses) != 1:
            raise AddressListError(f"{what} not one plain address")
        address = header.groups[0].addresses[0]
        if not address.username or not address.domain:
            raise AddressListError(f"{what} an address without a domain")
        domain = _address_domain(address.domain)
        if domain is None:
            raise AddressListError(f"{what} an address whose domain is not a host name")
        addresses.append((address.addr_spec, domain))
    seen = {domain for _, domain in addresses}
    mentions = []
    for match in _MENTION.finditer(value):
        domain = _address_domain(match.group(2).rstrip("."))
        if domain not in seen:
            mentions.append((match.group(), domain))
    return tuple(addresses), tuple(mentions)


_parse_cached = lru_cache(maxsize=4096)(_parse)


def parse_address_list(value: str) -> Parsed:
    """An RFC 5322 address list (commas, or Outlook's semicolons, as separators).

    Answers the addresses as (addr-spec, normalised domain), and any other address-looking
    text (inside quotes, say) as (text, normalised domain or None). Raises
    AddressListError, saying why, for anything that is not plainly a list of addresses:
    control characters, comments, groups, routes, empty entries, parser defects.
    """
    parsed = _parse_cached(value) if len(value) <= _CACHE_MAX_CHARS else _parse(value)
    if isinstance(parsed, str):
        raise AddressListError(parsed)
    return parsed


@dataclass(frozen=True, slots=True)
class EmailDomains:
    """A compiled `email_domains` allow-list."""

    exact: frozenset[str]
    suffixes: tuple[str, ...]  # ".example.com" for "*.example.com"
    shown: str

    @classmethod
    def of(cls, entries: list[str]) -> EmailDomains:
        normal = [d for d in map(allowed_domain, entries) if d is not None]
        shown = ", ".join(entries[:3]) + (
            f", … ({len(entries)} in all)" if len(entries) > 3 else ""
        )
        return cls(
            frozenset(d for d in normal if not d.startswith("*.")),
            tuple(d[1:] for d in normal if d.startswith("*.")),
            shown,
        )

    def allows(self, domain: str | None) -> bool:
        return domain is not None and (domain in self.exact or domain.endswith(self.suffixes))

    def check(self, values: list[Any], where: str) -> list[str]:
        """One line per value that is not an address list at the allowed domains."""
        problems = []
        for value in values:
            if not isinstance(value, str):
                problems.append(f"{where} is not a string of addresses ({type(value).__name__})")
                continue
            try:
                addresses, mentions = parse_address_list(value)
            except AddressListError as exc:
                problems.append(f"{where} {_short(value)} {exc}")
                continue
            bad = next(((a, d) for a, d in addresses if not self.allows(d)), None)
            if bad is not None:
                spelled = "" if bad[0].isascii() else f" (domain {bad[1]})"
                problems.append(
                    f"{where} {_short(bad[0])}{spelled} is not at an allowed domain "
                    f"(email_domains: {self.shown})"
                )
                continue
            mention = next((text for text, d in mentions if not self.allows(d)), None)
            if mention is not None:
                problems.append(
                    f"{where} {_short(value)} contains {_short(mention, 40)}, not at an "
                    f"allowed domain (email_domains: {self.shown})"
                )
        return problems
