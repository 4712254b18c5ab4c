"""Where things are, for every test and helper: the repository, the tests' data, the Node clients."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DATA = TESTS / "data"
CLIENTS = TESTS / "clients"
