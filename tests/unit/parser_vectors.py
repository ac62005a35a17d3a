"""The public ircdocs parser-test vectors (github.com/ircdocs/parser-tests), read straight from the
sibling shared/ folder beside the repository (or HUBBUB_IRC_PARSER_TESTS). On a clone without that folder a
missing file skips its test, saying so; where the vectors must be there (CI sets
HUBBUB_REQUIRE_PARSER_VECTORS=1), it fails it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml


def vectors_dir() -> Path:
    env = os.environ.get("HUBBUB_IRC_PARSER_TESTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "irc-parser-tests"


class Missing:
    """Stands in for the vectors of a file that could not be read (see :func:`vector`)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def load_vectors(name: str, id_key: str) -> list[Any]:
    path = vectors_dir() / name
    try:
        tests = yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    except (OSError, KeyError, TypeError) as exc:
        return [pytest.param(Missing(f"{path}: {exc!r}"), id=f"{name}-MISSING")]
    if not tests:
        return [pytest.param(Missing(f"{path}: no tests"), id=f"{name}-EMPTY")]
    return [pytest.param(test, id=f"{n}-{test.get(id_key, '')}") for n, test in enumerate(tests)]


def vector(case: dict[str, Any] | Missing) -> dict[str, Any]:
    if isinstance(case, Missing):
        message = (
            f"IRC parser-test vectors not found ({case.reason}); they live in shared/data/irc-parser-tests "
            "beside the repository, or set HUBBUB_IRC_PARSER_TESTS to their folder"
        )
        if os.environ.get("HUBBUB_REQUIRE_PARSER_VECTORS") == "1":
            pytest.fail(message + " (required: HUBBUB_REQUIRE_PARSER_VECTORS=1)", pytrace=False)
        pytest.skip(message)
    return case
