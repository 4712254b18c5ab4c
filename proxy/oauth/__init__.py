"""yamcp as an OAuth 2.1 authorization server and resource server for its own MCP servers.

ChatGPT's and claude.ai's connectors cannot send a static `Authorization` header, so a
server with `require_api_token_auth` is reached through OAuth instead: the client
discovers yamcp (RFC 9728, RFC 8414), registers (a Client ID Metadata Document, RFC 7591
or configuration), and a person signs in on yamcp's consent page with one of the
server's API tokens. The access token it gets is bound to that one server URL (RFC
8707) and to that API token: it holds exactly as long as both do.

Modules: `metadata` (the discovery documents and the 401 challenge), `clients` (who a
`client_id` is), `grants` (codes, access and refresh tokens), `consent` (the sign-in page)
and `routes` (the token, registration and revocation endpoints).
"""
