"""Notebook 06 and lab 12 (a pull-through cache): the sentences their steps raise."""

from __future__ import annotations

__all__ = ["no_pull_measured", "practice_06_needs_hub"]


def no_pull_measured():
    from . import ReglabError

    return ReglabError("no pull measured yet: pull through the cache first (lab.mirror.pull_as('A', 'app:v1')).")


def practice_06_needs_hub():
    from . import ReglabError

    return ReglabError("your turn needs the hub running: run the notebook's cells from Step 1 first "
                       "(lab.mirror.run_hub(), lab.mirror.publish()).")
