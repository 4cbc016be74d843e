"""Go's ``compressor`` at level 6 (compress/flate, Go 1.7-1.21): LZ77 with hash chains and lazy
matching, cut into blocks of 16,384 tokens.

The algorithm is Go's, step for step, but it skips where Go can find nothing. A match of four
bytes or more needs the same four bytes earlier in the 32 KiB window; numpy finds every such
position up front (sorting the 4-byte words of a segment). Between two of them, Go's loop can
only emit literals, so whole runs of literals are emitted at once; at and after them, Go's own
step runs, walking the same hash chain Go walks. Random data (the course's synthetic layers)
has a few such positions per megabyte: it compresses at tens of MB/s. Text and binaries have
one almost everywhere: they run at Python speed (about 0.5 MB/s).

Positions are absolute (offsets into the input); Go's 64 KiB sliding window is kept only to
know when it forgets the start of a block (then the block cannot be stored), with the input
written in 32 KiB pieces as ``io.Copy`` writes it.
"""

from __future__ import annotations


from .. import errors
from .huffman import Block, BlockWriter


class _Numpy:
    """numpy at first use: only compressing a layer needs it, not every ``import reglab`` (a class
    of learners starts many kernels; docs/classroom-profile.md)."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _Numpy()

WINDOW_SIZE = 1 << 15
MIN_MATCH = 4
MAX_MATCH = 258
LOOKAHEAD = MIN_MATCH + MAX_MATCH
MAX_BLOCK_TOKENS = 1 << 14
HASH_SHIFT = 32 - 17
HASHMUL = 0x1E35A7BD
GOOD, LAZY, NICE, CHAIN = 8, 16, 128, 128  # level 6, Go's DefaultCompression
SEGMENT = 1 << 21  # positions whose words are sorted at once (bounds the memory used)
DENSE = 1 << 16  # candidates per segment above which every hash chain is computed up front
COPY_CHUNK = 32 * 1024


class TooSlow(Exception):
    """Go's bytes for this input would take too long in Python (more positions than the limit)."""


def _words(buf: bytes, start: int, count: int) -> np.ndarray:
    """The big-endian 4-byte word at each position ``start … start+count-1`` of ``buf``."""
    out = np.empty(count, dtype=np.uint32)
    for k in range(4):
        n = (count - k + 3) // 4
        if n > 0:
            out[k::4] = np.frombuffer(buf, dtype=">u4", count=n, offset=start + k)
    return out


def _previous_equal(keys: np.ndarray) -> np.ndarray:
    """For each index, the previous index holding the same key, or -1 (two stable radix sorts)."""
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    order = low[np.argsort((keys[low] >> 16).astype(np.uint16), kind="stable")]
    prev = np.full(len(keys), -1, dtype=np.int64)
    if len(keys) > 1:
        ranked = keys[order]
        same = ranked[1:] == ranked[:-1]
        prev[order[1:][same]] = order[:-1][same]
    return prev


class _Segment:
    """Positions ``start … stop-1``: which can start a match, and the hash chains through them."""

    def __init__(self, buf: bytes, start: int, stop: int):
        self.start, self.stop = start, stop
        self.origin = max(start - WINDOW_SIZE, 0)  # where the window of the first position starts
        words = _words(buf, self.origin, stop - self.origin)
        self.hashes = (words * np.uint32(HASHMUL)) >> np.uint32(HASH_SHIFT)
        prev = _previous_equal(words)
        near = (prev >= 0) & (np.arange(len(words), dtype=np.int64) - prev <= WINDOW_SIZE)
        near[: start - self.origin] = False
        self.candidates = np.flatnonzero(near) + self.origin  # sorted
        self.is_candidate = near
        self.chain_prev = None  # absolute previous position with the same hash, when dense
        if len(self.candidates) > DENSE:
            self.chain_prev = _previous_equal(self.hashes.astype(np.uint32))
            self.chain_prev[self.chain_prev >= 0] += self.origin

    def candidate(self, pos: int) -> bool:
        return bool(self.is_candidate[pos - self.origin])

    def next_candidate(self, pos: int) -> int:
        i = int(np.searchsorted(self.candidates, pos))
        return int(self.candidates[i]) if i < len(self.candidates) else self.stop

    def chain(self, pos: int, lowest: int):
        """Earlier positions with ``pos``'s hash from ``lowest`` on, newest first (Go's chain)."""
        if self.chain_prev is not None:
            i = int(self.chain_prev[pos - self.origin])
            while i >= lowest:
                yield i
                i = int(self.chain_prev[i - self.origin])
            return
        lo = lowest - self.origin
        same = np.flatnonzero(self.hashes[lo:pos - self.origin] == self.hashes[pos - self.origin])
        for i in same[::-1][:CHAIN]:
            yield int(i) + lo + self.origin


class Deflater:
    """One raw deflate stream of ``data``, byte for byte as Go's level-6 writer makes it."""

    def __init__(self, data: bytes, limit: int | None = None):
        self.limit = limit  # most positions Go's matching loop may run on here (None: no limit)
        self.slow = 0
        self.buf = bytes(data)
        self.data = np.frombuffer(self.buf, dtype=np.uint8)
        self.n = len(self.buf)
        self.writer = BlockWriter(self.data)
        self.block = Block()
        self.block_start = 0
        self.block_lost = False  # Go's window slid past the block's start: it cannot be stored
        self.base = 0  # absolute position of Go's window[0]
        self.end = 0  # absolute position of Go's windowEnd
        self.index = 0
        self.length = MIN_MATCH - 1
        self.offset = 0
        self.byte_available = False
        self.segment: _Segment | None = None

    # ------------------------------------------------------------------ driving, as io.Copy + Close

    def run(self) -> bytes:
        for start in range(0, self.n, COPY_CHUNK):
            remaining = min(COPY_CHUNK, self.n - start)
            while remaining:
                self._deflate(sync=False)
                remaining -= self._fill(remaining)
        self._deflate(sync=True)
        self.writer.stored_header(0, True)
        self.writer.stream.align()
        return bytes(self.writer.stream.out)

    def _fill(self, available: int) -> int:
        if self.index - self.base >= 2 * WINDOW_SIZE - LOOKAHEAD:
            if self.block_start - self.base < WINDOW_SIZE:
                self.block_lost = True
            self.base += WINDOW_SIZE
        n = min(available, 2 * WINDOW_SIZE - (self.end - self.base))
        self.end += n
        return n

    def _write_block(self, index: int) -> None:
        if index > 0:
            stored = None if self.block_lost else self.buf[self.block_start:index]
            self.block_start, self.block_lost = index, False
            self.writer.write(self.block, False, stored)
        self.block = Block()

    # ------------------------------------------------------------------ Go's deflate loop

    def _segment_at(self, pos: int) -> _Segment | None:
        if pos >= self.n - 3:
            return None  # the last three bytes start no 4-byte word
        seg = self.segment
        if seg is None or not seg.start <= pos < seg.stop:
            start = pos - pos % SEGMENT
            seg = self.segment = _Segment(self.buf, start, min(start + SEGMENT, self.n - 3))
            self.slow += len(seg.candidates)
            if self.limit is not None and self.slow > self.limit:
                raise TooSlow(errors.too_slow(self.slow))
        return seg

    def _deflate(self, sync: bool) -> None:
        end = self.end
        if end - self.index < LOOKAHEAD and not sync:
            return
        limit = end if sync else end - LOOKAHEAD + 1  # positions this call may process
        while True:
            index = self.index
            lookahead = end - index
            if lookahead < LOOKAHEAD and not sync:
                return
            if lookahead == 0:
                if self.byte_available:
                    self.block.literals(index - 1, index)
                    self.byte_available = False
                if self.block.count:
                    self._write_block(index)
                return
            seg = self._segment_at(index)
            if self.length == MIN_MATCH - 1 and (seg is None or not seg.candidate(index)):
                stop = min(limit, seg.next_candidate(index) if seg is not None else self.n)
                self._literal_run(index, stop)
                continue
            self._step(index, lookahead, seg)

    def _literal_run(self, index: int, stop: int) -> None:
        """Go's loop over positions with no match to find: each emits the byte before it."""
        first = index if self.byte_available else index + 1
        block = self.block
        pos = first
        while pos < stop:
            take = min(MAX_BLOCK_TOKENS - block.count, stop - pos)
            block.literals(pos - 1, pos - 1 + take)
            pos += take
            if block.count == MAX_BLOCK_TOKENS:
                self._write_block(pos - 1)
                block = self.block
        self.index = stop
        self.byte_available = True

    def _step(self, index: int, lookahead: int, seg: _Segment | None) -> None:
        prev_length, prev_offset = self.length, self.offset
        self.length, self.offset = MIN_MATCH - 1, 0
        if lookahead > prev_length and prev_length < LAZY and seg is not None and seg.candidate(index):
            length, offset = self._find_match(index, lookahead, seg)
            if length:
                self.length, self.offset = length, offset
        if prev_length >= MIN_MATCH and self.length <= prev_length:
            self.block.match(prev_length, prev_offset)
            self.index = index + prev_length - 1
            self.byte_available = False
            self.length = MIN_MATCH - 1
            if self.block.count == MAX_BLOCK_TOKENS:
                self._write_block(self.index)
            return
        if self.byte_available:
            self.block.literals(index - 1, index)
            if self.block.count == MAX_BLOCK_TOKENS:
                self._write_block(index)
        self.index = index + 1
        self.byte_available = True

    def _find_match(self, pos: int, lookahead: int, seg: _Segment) -> tuple[int, int]:
        """Go's ``findMatch`` from length 3: the longest match along the chain, or (0, 0)."""
        buf = self.buf
        look = min(lookahead, MAX_MATCH)
        nice = min(look, NICE)
        length, found = MIN_MATCH - 1, (0, 0)
        target = buf[pos:pos + look]
        w_end = buf[pos + length]
        tries = CHAIN
        # Go sees 32 KiB back, but never before its window's start: just after the window
        # slides, that is less
        for i in seg.chain(pos, max(pos - WINDOW_SIZE, self.base)):
            if tries == 0:
                break
            tries -= 1
            if buf[i + length] != w_end or buf[i:i + length + 1] != target[:length + 1]:
                continue
            candidate = buf[i:i + look]
            n = look if candidate == target else _common_prefix(candidate, target)
            if n > length and (n > MIN_MATCH or pos - i <= 4096):
                length, found = n, (n, pos - i)
                if n >= nice:
                    break
                w_end = buf[pos + n]
        return found


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of two equally long byte strings that differ somewhere."""
    lo, hi = 0, len(a)
    while hi - lo > 8:  # bisect on slice equality: C-speed compares
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    while lo < hi and a[lo] == b[lo]:
        lo += 1
    return lo
