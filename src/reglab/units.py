"""Sizes and counts in the words a learner reads."""


def human(size: int) -> str:
    """Bytes in the units ``ls -lh``/``du -h`` readers know (IEC: KiB, MiB)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def count(n: int, word: str, plural: str | None = None) -> str:
    """``1 layer``, ``3 layers``, ``2 repositories`` (with ``plural``)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def docker_size(size: int) -> str:
    """A size as ``docker image ls`` prints it: decimal units, 3 significant digits (``9.07kB``,
    ``25.1MB``) — go-units ``HumanSizeWithPrecision(size, 3)``, as the docker CLI calls it."""
    value, units = float(size), ("B", "kB", "MB", "GB", "TB", "PB")
    i = 0
    while value >= 1000 and i < len(units) - 1:
        value /= 1000
        i += 1
    return f"{value:.3g}{units[i]}"


def docker_age(seconds: float) -> str:
    """How long ago, as ``docker image ls`` prints CREATED: go-units ``HumanDuration`` + `` ago``."""
    s = int(seconds)
    if s < 1:
        text = "Less than a second"
    elif s == 1:
        text = "1 second"
    elif s < 60:
        text = f"{s} seconds"
    elif s // 60 == 1:
        text = "About a minute"
    elif s // 60 < 60:
        text = f"{s // 60} minutes"
    else:
        hours = int((seconds + 1800) // 3600)  # Go rounds to the nearest hour here
        if hours == 1:
            text = "About an hour"
        elif hours < 48:
            text = f"{hours} hours"
        elif hours < 24 * 7 * 2:
            text = f"{hours // 24} days"
        elif hours < 24 * 30 * 2:
            text = f"{hours // 24 // 7} weeks"
        elif hours < 24 * 365 * 2:
            text = f"{hours // 24 // 30} months"
        else:
            text = f"{int(seconds // 3600) // 24 // 365} years"
    return f"{text} ago"
