"""Sentences about registry:2 beside registry:3 (appendix notebook A)."""

from __future__ import annotations

from . import UsageError

__all__ = ["versions_not_started"]


def versions_not_started(what: str, start: str) -> UsageError:
    return UsageError(f"this lab has no {what} running yet: start them with {start} first.")
