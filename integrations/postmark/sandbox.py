"""What `yamcp serve --sandbox` serves for Postmark (the manifest's `sandbox:`).

The simulator itself, a stateful, in-memory Postmark, is the package `simulator/` beside
this file; the tests' fake Postmark (tests/support/fake_postmark.py) serves the same one. This
module keeps the sandbox contract (proxy/sandbox.py): `sandbox_app()` returns a fresh
simulator, and `CREDENTIALS` maps each secret of the manifest's credential profiles to the
value that simulator accepts.
"""

from .simulator import CREDENTIALS, sandbox_app

__all__ = ["CREDENTIALS", "sandbox_app"]
