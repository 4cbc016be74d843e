"""Sentences about images on this machine: tag, push, pull, remove."""

from __future__ import annotations

from . import ImageMissing

__all__ = ["nothing_to_push", "nothing_to_remove"]


def nothing_to_push(tag: str) -> ImageMissing:
    return ImageMissing(f"there is no image {tag} to push: tag one with that name first (lab.tag()).")


def nothing_to_remove(tag: str) -> ImageMissing:
    return ImageMissing(f"there is no image {tag} here to remove (lab.images() lists them).")
