"""Sentences of the pull-through cache (notebook 06, :mod:`reglab.steps.mirror`): the hub, the
proxy, and what a pull through it cost."""

from __future__ import annotations

from . import RegistryUnavailable, ReglabError

__all__ = ["no_pull_measured", "no_such_mirror_registry", "proxy_still_storing"]


def no_such_mirror_registry(what: str) -> ReglabError:
    """``what``: ``"hub"`` or ``"proxy"``."""
    start = "lab.mirror.run_hub()" if what == "hub" else "lab.mirror.run_proxy()"
    return ReglabError(f"this lab has no {what} yet: start it with {start}.")


def no_pull_measured() -> ReglabError:
    return ReglabError("no pull with the hub up measured yet: pull through the cache first "
                       "(lab.mirror.pull_as('A', 'app:v1')).")


def proxy_still_storing(host: str, blobs: int, seconds: float) -> RegistryUnavailable:
    return RegistryUnavailable(f"the proxy at {host} did not finish storing its copy of "
                               f"{blobs} blob(s) within {seconds:g} s: look at its log.")


__all__ += ["practice_06_needs_hub"]


def practice_06_needs_hub():
    from . import ReglabError

    return ReglabError("your turn needs the hub running: run the notebook's cells from Step 1 first "
                       "(lab.mirror.run_hub(), lab.mirror.publish()).")
