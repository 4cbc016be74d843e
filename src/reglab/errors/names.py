"""Sentences about names: image references, digests, and the names of labs, learners and objects."""

from __future__ import annotations

from . import BadReference, fragment

__all__ = ["bad_lab_id", "bad_learner", "bad_role", "empty_reference", "not_a_digest", "object_needs_lab",
           "reference_bad_component", "reference_bad_digest", "reference_bad_host", "reference_bad_tag",
           "reference_has_spaces", "reference_no_repository", "reference_too_long"]


# ----------------------------------------------------------------------------- image references


def _bad(text: str, why: str) -> BadReference:
    return BadReference(f"{text!r} is not a valid image reference: {why}.")


def empty_reference() -> BadReference:
    return BadReference("an empty image reference names nothing: give one like 'hello-world'.")


def reference_has_spaces(text: str) -> BadReference:
    return _bad(text, "it contains spaces")


def reference_bad_digest(text: str) -> BadReference:
    return _bad(text, "a digest looks like sha256: followed by 64 hex digits")


def reference_bad_tag(text: str, tag: str) -> BadReference:
    return _bad(text, f"tag {tag!r} may hold only letters, digits, '_', '.' and '-' (128 at most)")


def reference_bad_host(text: str, host: str) -> BadReference:
    return _bad(text, f"{host!r} is not a host name or host:port")


def reference_no_repository(text: str) -> BadReference:
    return _bad(text, "the repository name is missing")


def reference_bad_component(text: str, component: str) -> BadReference:
    hint = f" — try {text.lower()!r}" if component != component.lower() else ""
    return _bad(
        text,
        f"{component!r} must be lowercase letters and digits, separated by '.', '_' or '-'{hint}",
    )


def reference_too_long(text: str) -> BadReference:
    return _bad(text, "the repository name is longer than 255 characters")


@fragment
def not_a_digest(digest: str) -> BadReference:
    """Raised whole, but it ends with its example (``sha256:…``) instead of a full stop."""
    return BadReference(f"{digest!r} is not a digest: expected <algorithm>:<hex>, e.g. sha256:…")


# ----------------------------------------------------------------------------- labs, learners, objects


def bad_lab_id(lab: str) -> BadReference:
    return BadReference(
        f"{lab!r} cannot name a lab: use 1-40 lowercase letters, digits, '-', '_' or '.', "
        "starting with a letter or digit (for example Lab('01'))."
    )


def bad_learner(name: str, source: str = "REGLAB_LEARNER") -> BadReference:
    """``source``: where the name came from (the setting's name)."""
    return BadReference(
        f"{source}={name!r} cannot name a learner: use 1-32 lowercase letters, digits, '-', '_' or '.', "
        "starting with a letter or digit, without spaces or slashes (for example REGLAB_LEARNER=alice)."
    )


def object_needs_lab() -> BadReference:
    return BadReference("an object needs a lab to be named after.")


def bad_role(role: str) -> BadReference:
    return BadReference(f"{role!r} cannot be part of a name: use lowercase letters, digits, '-', '_' or '.'.")
