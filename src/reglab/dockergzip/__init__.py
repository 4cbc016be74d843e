"""Layer compression byte for byte as ``docker push`` does it.

The Docker daemon (20.10, built with Go 1.19) compresses each layer it pushes with Go's
``compress/gzip`` at the default level. zlib compresses the same tar to different bytes, so
an image imported by the daemonless engine would get other layer digests — and another
manifest digest — than the same image pushed by Docker. This package reproduces Go's
encoder (``compress/flate`` level 6, the Go 1.7-1.21 algorithm, BSD-licensed, Copyright
The Go Authors): hash chains with lazy matching (:mod:`.deflate`), per-block choice of stored,
fixed or dynamic Huffman coding, Go's length-limited Huffman code construction, and the empty
final stored block Go writes on close (:mod:`.huffman`).

Checked against the daemon itself (``tests/test_interop.py`` pushes layers with Docker and
compares the blobs) and against Go 1.19's own ``compress/gzip``.

Speed depends on the data, not its size: where Go can find a match (text, binaries) the
work is Go's loop in Python, about 0.5 MB/s; random data (the course's synthetic layers) has
almost no such places and goes at tens of MB/s. :func:`compress` gives up on Go's bytes
(and uses zlib: same content, other bytes, so another digest than Docker's) only when more
than ``limit`` positions would need Go's loop — in the course, only the 25 MB ``registry:2``
stand-in, which no notebook pushes.
"""

from __future__ import annotations

import struct
import zlib

from . import deflate
from .deflate import TooSlow

__all__ = ["DEFAULT_LIMIT", "TooSlow", "compress", "go_gzip"]

DEFAULT_LIMIT = 1 << 20  # positions run through Go's loop in Python: a few seconds
HEADER = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"  # no name, mtime 0, OS unknown


def go_gzip(data: bytes, limit: int | None = None) -> bytes:
    """``gzip.NewWriter`` + ``io.Copy`` + ``Close`` in Go: the bytes Docker pushes for ``data``.

    With ``limit``, raise :class:`TooSlow` as soon as more positions than that would need Go's
    matching loop.
    """
    body = deflate.Deflater(data, limit).run()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return HEADER + body + trailer


def compress(data: bytes, limit: int | None = DEFAULT_LIMIT) -> bytes:
    """Docker's bytes for ``data``, unless that takes too long (see :data:`DEFAULT_LIMIT`): then zlib's."""
    try:
        return go_gzip(data, limit)
    except TooSlow:
        import gzip

        return gzip.compress(data, compresslevel=6, mtime=0)
