"""yamcp: a declarative MCP proxy. YAML manifests in, policy-guarded MCP servers out."""

__version__ = "0.1.0"
