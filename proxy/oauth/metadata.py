"""Discovery: protected resource metadata per server URL (RFC 9728), authorization server
metadata (RFC 8414), and the `WWW-Authenticate` challenge that points a client at them."""

from __future__ import annotations

from typing import Any

WELL_KNOWN_RESOURCE = "/.well-known/oauth-protected-resource"
WELL_KNOWN_SERVER = "/.well-known/oauth-authorization-server"
AUTHORIZE = "/oauth/authorize"
TOKEN = "/oauth/token"
REGISTER = "/oauth/register"
REVOKE = "/oauth/revoke"
# One scope: what a token may do is the server's policy, decided by the operator; the
# scope only names the grant, so a client that asks for others gets this one (RFC 6749 3.3).
SCOPE = "mcp"
AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]


def resource_url(public_url: str, url_token: str) -> str:
    """The resource indicator (RFC 8707) of a server: its MCP URL, exactly as minted."""
    return f"{public_url}/mcp/{url_token}"


def resource_metadata_url(public_url: str, url_token: str) -> str:
    return f"{public_url}{WELL_KNOWN_RESOURCE}/mcp/{url_token}"


def challenge(public_url: str, url_token: str) -> str:
    """The 401's `WWW-Authenticate`: where the metadata is, and the scope to ask for."""
    metadata = resource_metadata_url(public_url, url_token)
    return (
        f'Bearer realm="yamcp", error="invalid_token", '
        f'resource_metadata="{metadata}", scope="{SCOPE}"'
    )


def resource_metadata(public_url: str, url_token: str, name: str) -> dict[str, Any]:
    return {
        "resource": resource_url(public_url, url_token),
        "authorization_servers": [public_url],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": name,
    }


def server_metadata(public_url: str) -> dict[str, Any]:
    return {
        "issuer": public_url,
        "authorization_endpoint": public_url + AUTHORIZE,
        "token_endpoint": public_url + TOKEN,
        "registration_endpoint": public_url + REGISTER,
        "revocation_endpoint": public_url + REVOKE,
        "scopes_supported": [SCOPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }
