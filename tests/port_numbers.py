"""Ports in compared outputs: each distinct port of 127.0.0.1 in a text becomes PORT1, PORT2 … in
order of appearance, so a comparison still says WHICH registry a line means (the hub, the cache,
the learner's) while the numbers a run chose (5000, or the next free one) may differ."""

import re

_PORT = re.compile(r"(?<=127\.0\.0\.1:)\d{2,5}(?!\d)")


def number_ports(text):
    if not isinstance(text, str):
        return text
    seen: dict[str, int] = {}
    return _PORT.sub(lambda m: f"PORT{seen.setdefault(m.group(0), len(seen) + 1)}", text)
