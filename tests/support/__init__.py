"""Shared helpers and data of the tests, imported by test modules, never a test module itself."""
