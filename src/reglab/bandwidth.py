"""What pulls through a pull-through cache cost, measured on both sides of the cache.

For every pull, two numbers from two access logs (:mod:`reglab.accesslog`):

- **served**: the bytes of blobs the cache sent to the learner (the cache's log) — also what
  the upstream would have sent had the learner pulled from it directly;
- **upstream**: the bytes of blobs the upstream sent to the cache during the pull (the
  upstream's own log), ``None`` when the upstream was down.

and the pull's wall time, which varies from run to run: it is drawn in the plot
(:func:`reglab.plots.bandwidth`), never printed in the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .accesslog import Requests
from .units import count, human


@dataclass(frozen=True)
class PullCost:
    """One learner's pull through the cache, measured."""

    learner: str
    image: str  # app:v1
    served: int  # bytes of blobs the cache sent to the learner
    served_blobs: int
    upstream: int | None  # bytes of blobs the upstream sent to the cache (None: it was down)
    upstream_downloads: int  # blob downloads the upstream answered
    upstream_blobs: int  # distinct blobs among them
    seconds: float = field(compare=False)  # wall time of the pull: varies, never printed
    hub: Requests | None = field(default=None, repr=False, compare=False)  # the upstream's log window

    @property
    def label(self) -> str:
        return f"{self.learner} · {self.image}"

    def fetched(self) -> str:
        """What crossed from the upstream, in words."""
        if self.upstream is None:
            return "the hub is down: nothing came from it"
        if not self.upstream_downloads:
            return "the hub sent 0 B"
        each = ("each twice: once streamed to the learner, once into the cache's storage"
                if self.upstream_downloads == 2 * self.upstream_blobs else
                f"{self.upstream_downloads} downloads")
        return f"the hub sent {human(self.upstream)} ({count(self.upstream_blobs, 'blob')}, {each})"

    def __str__(self) -> str:
        return (f"{self.learner} pulled {self.image} through the cache: {count(self.served_blobs, 'blob')}, "
                f"{human(self.served)} served to {self.learner}; {self.fetched()}")


class Ledger(list):
    """The pulls of a class through one cache, in order; prints as a table."""

    @property
    def served(self) -> int:
        """What the upstream would have sent without the cache: every pull from it directly."""
        return sum(p.served for p in self)

    @property
    def upstream(self) -> int:
        """What the upstream did send, with the cache in front of it."""
        return sum(p.upstream or 0 for p in self)

    @property
    def saved(self) -> int:
        return self.served - self.upstream

    def verdict(self) -> str:
        if not self:
            return "no pull measured yet"
        if self.saved >= 0:
            share = round(100 * self.saved / self.served) if self.served else 0
            outcome = f"{human(self.saved)} ({share} %) saved"
        else:
            outcome = f"{human(-self.saved)} more than without it"
        return (f"without the cache the hub would have sent {human(self.served)}; with it, {human(self.upstream)}: "
                f"{outcome}")

    def __str__(self) -> str:
        rows = [("pull", "to the learner", "from the hub")]
        for p in self:
            rows.append((p.label, human(p.served), "down" if p.upstream is None else human(p.upstream)))
        rows.append((f"all {len(self)} pulls", human(self.served), human(self.upstream)))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{r[0]:<{widths[0]}}   {r[1]:>{widths[1]}}   {r[2]:>{widths[2]}}" for r in rows]
        lines.insert(-1, "-" * len(lines[0]))
        return "\n".join(lines + [self.verdict()])

    __repr__ = __str__
