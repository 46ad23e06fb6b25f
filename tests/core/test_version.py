"""The client's version and the comparison the hub's gate and the client share."""

from __future__ import annotations

import tomllib
from pathlib import Path

from core.version import CLIENT_VERSION, is_older, parse_version

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_the_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == CLIENT_VERSION


def test_versions_compare_as_numbers_not_text() -> None:
    assert parse_version("1.2.10") == (1, 2, 10, 0) and parse_version(" 2 ") == (2, 0, 0, 0)
    assert is_older("0.9.9", "0.10.0") and not is_older("0.10.0", "0.9.9")
    assert not is_older("1.0", "1.0.0") and is_older("1.0.0", "1.0.0.1")
    assert not is_older("0.0.1", "") and not is_older("0.0.1", "garbage")  # no (readable) minimum: any goes
    for bad in ("", "1.x", "v1.0", "1.0.0-beta", "1..0", "1.2.3.4.5"):
        assert parse_version(bad) is None and is_older(bad, "0.0.1"), bad
