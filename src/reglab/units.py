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
