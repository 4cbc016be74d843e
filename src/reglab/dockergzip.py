"""Layer compression byte for byte as ``docker push`` does it.

The Docker daemon (20.10, built with Go 1.19) compresses each layer it pushes with Go's
``compress/gzip`` at the default level. zlib compresses the same tar to different bytes, so
an image imported by the daemonless engine would get other layer digests — and another
manifest digest — than the same image pushed by Docker. This module reproduces Go's
encoder (``compress/flate`` level 6, the Go 1.7-1.21 algorithm, BSD-licensed, Copyright
The Go Authors): hash chains with lazy matching, per-block choice of stored, fixed or
dynamic Huffman coding, Go's length-limited Huffman code construction, and the empty final
stored block Go writes on close.

It is plain Python, 0.3-0.7 MB/s: meant for small layers such as the stand-in
``hello-world`` (a 20 KiB tar, 30 ms). :func:`compress` falls back to zlib above ``limit``
bytes (:data:`DEFAULT_LIMIT`): same content, other bytes, so such a layer's digest differs
from the one Docker would push.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["DEFAULT_LIMIT", "compress", "go_gzip"]

DEFAULT_LIMIT = 1024 * 1024

# --------------------------------------------------------------------------- constants

WINDOW_SIZE = 1 << 15
WINDOW_MASK = WINDOW_SIZE - 1
MIN_MATCH = 4
MAX_MATCH = 258
BASE_MATCH_LENGTH = 3
BASE_MATCH_OFFSET = 1
MAX_BLOCK_TOKENS = 1 << 14
MAX_STORE_BLOCK = 65535
HASH_BITS = 17
HASH_SIZE = 1 << HASH_BITS
HASH_SHIFT = 32 - HASH_BITS
MAX_HASH_OFFSET = 1 << 24
HASHMUL = 0x1E35A7BD
MAX_INT32 = (1 << 31) - 1

# level 6 (Go's DefaultCompression): good, lazy, nice, chain
GOOD, LAZY, NICE, CHAIN = 8, 16, 128, 128

MATCH_TYPE = 1 << 30
LENGTH_SHIFT = 22
OFFSET_MASK = (1 << LENGTH_SHIFT) - 1
END_BLOCK = 256
LENGTH_CODES_START = 257
MAX_NUM_LIT = 286
OFFSET_CODE_COUNT = 30
CODEGEN_CODE_COUNT = 19
BAD_CODE = 255

LENGTH_EXTRA_BITS = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
LENGTH_BASE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56,
               64, 80, 96, 112, 128, 160, 192, 224, 255]
OFFSET_EXTRA_BITS = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8,
                     9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
OFFSET_BASE = [0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0006, 0x0008, 0x000C, 0x0010, 0x0018,
               0x0020, 0x0030, 0x0040, 0x0060, 0x0080, 0x00C0, 0x0100, 0x0180, 0x0200, 0x0300,
               0x0400, 0x0600, 0x0800, 0x0C00, 0x1000, 0x1800, 0x2000, 0x3000, 0x4000, 0x6000]
CODEGEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def _code_table(bases: list[int], size: int) -> list[int]:
    """For every value below ``size``: the last code whose base is not above it."""
    table, code = [], 0
    for value in range(size):
        while code + 1 < len(bases) and bases[code + 1] <= value:
            code += 1
        table.append(code)
    return table


LENGTH_CODES = _code_table(LENGTH_BASE, 256)  # indexed by length - 3
OFFSET_CODES = _code_table(OFFSET_BASE[:16], 256)


def _offset_code(off: int) -> int:
    if off < 256:
        return OFFSET_CODES[off]
    if off >> 7 < 256:
        return OFFSET_CODES[off >> 7] + 14
    return OFFSET_CODES[off >> 14] + 28


def _reverse(code: int, length: int) -> int:
    out = 0
    for _ in range(length):
        out = (out << 1) | (code & 1)
        code >>= 1
    return out


# --------------------------------------------------------------------------- Huffman codes


class _Encoder:
    """A Huffman code (``code``/``length`` per symbol), built the way Go builds it."""

    def __init__(self, size: int):
        self.code = [0] * size
        self.length = [0] * size
        self._bit_count = [0] * 17  # Go keeps this array between calls

    def bit_length(self, freq: list[int]) -> int:
        lengths = self.length
        return sum(f * lengths[i] for i, f in enumerate(freq) if f)

    def generate(self, freq: list[int], max_bits: int) -> None:
        nodes = []
        for i, f in enumerate(freq):
            if f:
                nodes.append((f, i))
            else:
                self.length[i] = 0
        if len(nodes) <= 2:
            for i, (_, literal) in enumerate(nodes):
                self.code[literal] = i
                self.length[literal] = 1
            return
        nodes.sort()  # by frequency, then literal: a total order, as Go's byFreq
        counts = self._bit_counts([f for f, _ in nodes], max_bits)
        self._assign(counts, [literal for _, literal in nodes])

    def _bit_counts(self, freqs: list[int], max_bits: int) -> list[int]:
        n = len(freqs)
        f = freqs + [MAX_INT32]
        max_bits = min(max_bits, n - 1)
        size = 18
        last = [0] * size
        next_char = [0] * size
        next_pair = [0] * size
        needed = [0] * size
        leaf = [[0] * size for _ in range(size)]
        for level in range(1, max_bits + 1):
            last[level] = f[1]
            next_char[level] = f[2]
            next_pair[level] = f[0] + f[1]
            leaf[level][level] = 2
            if level == 1:
                next_pair[level] = MAX_INT32
        needed[max_bits] = 2 * n - 4
        level = max_bits
        while True:
            if next_pair[level] == MAX_INT32 and next_char[level] == MAX_INT32:
                needed[level] = 0
                next_pair[level + 1] = MAX_INT32
                level += 1
                continue
            prev_freq = last[level]
            if next_char[level] < next_pair[level]:
                count = leaf[level][level] + 1
                last[level] = next_char[level]
                leaf[level][level] = count
                next_char[level] = f[count]
            else:
                last[level] = next_pair[level]
                leaf[level][:level] = leaf[level - 1][:level]
                needed[level - 1] = 2
            needed[level] -= 1
            if needed[level] == 0:
                if level == max_bits:
                    break
                next_pair[level + 1] = prev_freq + last[level]
                level += 1
            else:
                while needed[level - 1] > 0:
                    level -= 1
        if leaf[max_bits][max_bits] != n:
            raise AssertionError("Huffman construction lost a leaf")
        bit_count = self._bit_count
        bits = 1
        counts = leaf[max_bits]
        for level in range(max_bits, 0, -1):
            bit_count[bits] = counts[level] - counts[level - 1]
            bits += 1
        return bit_count[: max_bits + 1]

    def _assign(self, bit_count: list[int], literals: list[int]) -> None:
        code = 0
        for n, bits in enumerate(bit_count):
            code = (code << 1) & 0xFFFF
            if n == 0 or bits == 0:
                continue
            chunk = sorted(literals[len(literals) - bits:])
            for literal in chunk:
                self.code[literal] = _reverse(code, n)
                self.length[literal] = n
                code += 1
            literals = literals[: len(literals) - bits]


def _fixed_literal() -> _Encoder:
    enc = _Encoder(MAX_NUM_LIT)
    for ch in range(MAX_NUM_LIT):
        if ch < 144:
            bits, size = ch + 48, 8
        elif ch < 256:
            bits, size = ch + 400 - 144, 9
        elif ch < 280:
            bits, size = ch - 256, 7
        else:
            bits, size = ch + 192 - 280, 8
        enc.code[ch], enc.length[ch] = _reverse(bits, size), size
    return enc


def _fixed_offset() -> _Encoder:
    enc = _Encoder(OFFSET_CODE_COUNT)
    for i in range(OFFSET_CODE_COUNT):
        enc.code[i], enc.length[i] = _reverse(i, 5), 5
    return enc


FIXED_LITERAL = _fixed_literal()
FIXED_OFFSET = _fixed_offset()


# --------------------------------------------------------------------------- bit writer


class _BitWriter:
    """Go's huffmanBitWriter: chooses each block's encoding and writes it LSB-first."""

    def __init__(self):
        self.out = bytearray()
        self.bits = 0
        self.nbits = 0
        self.literal_freq = [0] * MAX_NUM_LIT
        self.offset_freq = [0] * OFFSET_CODE_COUNT
        self.codegen = [0] * (MAX_NUM_LIT + OFFSET_CODE_COUNT + 1)
        self.codegen_freq = [0] * CODEGEN_CODE_COUNT
        self.literal_enc = _Encoder(MAX_NUM_LIT)
        self.offset_enc = _Encoder(OFFSET_CODE_COUNT)
        self.codegen_enc = _Encoder(CODEGEN_CODE_COUNT)

    def write_bits(self, value: int, nb: int) -> None:
        self.bits |= value << self.nbits
        self.nbits += nb
        if self.nbits >= 48:
            self.out += (self.bits & 0xFFFFFFFFFFFF).to_bytes(6, "little")
            self.bits >>= 48
            self.nbits -= 48

    def flush(self) -> None:
        nbytes = (self.nbits + 7) // 8
        if nbytes:
            self.out += self.bits.to_bytes(nbytes, "little")
        self.bits = self.nbits = 0

    def write_bytes(self, data: bytes) -> None:
        if self.nbits & 7:
            raise AssertionError("stored bytes after unfinished bits")
        self.flush()
        self.out += data

    def write_stored_header(self, length: int, eof: bool) -> None:
        self.write_bits(1 if eof else 0, 3)
        self.flush()
        self.write_bits(length, 16)
        self.write_bits(~length & 0xFFFF, 16)

    def _generate_codegen(self, num_literals: int, num_offsets: int, lit: _Encoder, off: _Encoder) -> None:
        freq = self.codegen_freq
        for i in range(CODEGEN_CODE_COUNT):
            freq[i] = 0
        codegen = self.codegen
        codegen[:num_literals] = lit.length[:num_literals]
        codegen[num_literals:num_literals + num_offsets] = off.length[:num_offsets]
        codegen[num_literals + num_offsets] = BAD_CODE
        size = codegen[0]
        count = 1
        out = 0
        in_index = 1
        while size != BAD_CODE:
            next_size = codegen[in_index]
            in_index += 1
            if next_size == size:
                count += 1
                continue
            if size != 0:
                codegen[out] = size
                out += 1
                freq[size] += 1
                count -= 1
                while count >= 3:
                    n = min(6, count)
                    codegen[out] = 16
                    codegen[out + 1] = n - 3
                    out += 2
                    freq[16] += 1
                    count -= n
            else:
                while count >= 11:
                    n = min(138, count)
                    codegen[out] = 18
                    codegen[out + 1] = n - 11
                    out += 2
                    freq[18] += 1
                    count -= n
                if count >= 3:
                    codegen[out] = 17
                    codegen[out + 1] = count - 3
                    out += 2
                    freq[17] += 1
                    count = 0
            count -= 1
            while count >= 0:
                codegen[out] = size
                out += 1
                freq[size] += 1
                count -= 1
            size = next_size
            count = 1
        codegen[out] = BAD_CODE

    def _dynamic_size(self, lit: _Encoder, off: _Encoder, extra_bits: int) -> tuple[int, int]:
        freq = self.codegen_freq
        num_codegens = CODEGEN_CODE_COUNT
        while num_codegens > 4 and freq[CODEGEN_ORDER[num_codegens - 1]] == 0:
            num_codegens -= 1
        header = (3 + 5 + 5 + 4 + 3 * num_codegens + self.codegen_enc.bit_length(freq)
                  + freq[16] * 2 + freq[17] * 3 + freq[18] * 7)
        size = header + lit.bit_length(self.literal_freq) + off.bit_length(self.offset_freq) + extra_bits
        return size, num_codegens

    def _index_tokens(self, tokens: list[int]) -> tuple[int, int]:
        lit = self.literal_freq
        off = self.offset_freq
        for i in range(MAX_NUM_LIT):
            lit[i] = 0
        for i in range(OFFSET_CODE_COUNT):
            off[i] = 0
        for t in tokens:
            if t < MATCH_TYPE:
                lit[t] += 1
                continue
            lit[LENGTH_CODES_START + LENGTH_CODES[(t - MATCH_TYPE) >> LENGTH_SHIFT]] += 1
            off[_offset_code(t & OFFSET_MASK)] += 1
        num_literals = MAX_NUM_LIT
        while lit[num_literals - 1] == 0:
            num_literals -= 1
        num_offsets = OFFSET_CODE_COUNT
        while num_offsets > 0 and off[num_offsets - 1] == 0:
            num_offsets -= 1
        if num_offsets == 0:
            off[0] = 1
            num_offsets = 1
        self.literal_enc.generate(lit, 15)
        self.offset_enc.generate(off, 15)
        return num_literals, num_offsets

    def write_block(self, tokens: list[int], eof: bool, data: bytes | None) -> None:
        tokens = tokens + [END_BLOCK]
        num_literals, num_offsets = self._index_tokens(tokens)
        extra_bits = 0
        storable = data is not None and len(data) <= MAX_STORE_BLOCK
        stored_size = (len(data) + 5) * 8 if storable else 0
        if storable:
            for code in range(LENGTH_CODES_START + 8, num_literals):
                extra_bits += self.literal_freq[code] * LENGTH_EXTRA_BITS[code - LENGTH_CODES_START]
            for code in range(4, num_offsets):
                extra_bits += self.offset_freq[code] * OFFSET_EXTRA_BITS[code]
        lit_enc, off_enc = FIXED_LITERAL, FIXED_OFFSET
        size = 3 + FIXED_LITERAL.bit_length(self.literal_freq) + FIXED_OFFSET.bit_length(self.offset_freq) + extra_bits
        self._generate_codegen(num_literals, num_offsets, self.literal_enc, self.offset_enc)
        self.codegen_enc.generate(self.codegen_freq, 7)
        dynamic_size, num_codegens = self._dynamic_size(self.literal_enc, self.offset_enc, extra_bits)
        if dynamic_size < size:
            size = dynamic_size
            lit_enc, off_enc = self.literal_enc, self.offset_enc
        if storable and stored_size < size:
            self.write_stored_header(len(data), eof)
            self.write_bytes(data)
            return
        if lit_enc is FIXED_LITERAL:
            self.write_bits(3 if eof else 2, 3)
        else:
            self._write_dynamic_header(num_literals, num_offsets, num_codegens, eof)
        self._write_tokens(tokens, lit_enc, off_enc)

    def _write_dynamic_header(self, num_literals: int, num_offsets: int, num_codegens: int, eof: bool) -> None:
        self.write_bits(5 if eof else 4, 3)
        self.write_bits(num_literals - 257, 5)
        self.write_bits(num_offsets - 1, 5)
        self.write_bits(num_codegens - 4, 4)
        enc = self.codegen_enc
        for i in range(num_codegens):
            self.write_bits(enc.length[CODEGEN_ORDER[i]], 3)
        codegen = self.codegen
        i = 0
        while True:
            word = codegen[i]
            i += 1
            if word == BAD_CODE:
                break
            self.write_bits(enc.code[word], enc.length[word])
            if word == 16:
                self.write_bits(codegen[i], 2)
                i += 1
            elif word == 17:
                self.write_bits(codegen[i], 3)
                i += 1
            elif word == 18:
                self.write_bits(codegen[i], 7)
                i += 1

    def _write_tokens(self, tokens: list[int], lit: _Encoder, off: _Encoder) -> None:
        lcode, llen, ocode, olen = lit.code, lit.length, off.code, off.length
        write = self.write_bits
        for t in tokens:
            if t < MATCH_TYPE:
                write(lcode[t], llen[t])
                continue
            length = (t - MATCH_TYPE) >> LENGTH_SHIFT
            code = LENGTH_CODES[length]
            write(lcode[code + LENGTH_CODES_START], llen[code + LENGTH_CODES_START])
            if LENGTH_EXTRA_BITS[code]:
                write(length - LENGTH_BASE[code], LENGTH_EXTRA_BITS[code])
            offset = t & OFFSET_MASK
            code = _offset_code(offset)
            write(ocode[code], olen[code])
            if OFFSET_EXTRA_BITS[code]:
                write(offset - OFFSET_BASE[code], OFFSET_EXTRA_BITS[code])


# --------------------------------------------------------------------------- LZ77


class _Compressor:
    """Go's ``compressor`` for levels 4-9 (lazy matching), fixed at level 6."""

    def __init__(self):
        self.w = _BitWriter()
        self.window = bytearray(2 * WINDOW_SIZE)
        self.hash_head = [0] * HASH_SIZE
        self.hash_prev = [0] * WINDOW_SIZE
        self.hash_offset = 1
        self.index = 0
        self.window_end = 0
        self.block_start = 0
        self.byte_available = False
        self.tokens: list[int] = []
        self.length = MIN_MATCH - 1
        self.offset = 0
        self.chain_head = -1
        self.sync = False

    def _hash4(self, i: int) -> int:
        w = self.window
        return (((w[i] << 24 | w[i + 1] << 16 | w[i + 2] << 8 | w[i + 3]) * HASHMUL) & 0xFFFFFFFF) >> HASH_SHIFT

    def fill(self, data: memoryview) -> int:
        if self.index >= 2 * WINDOW_SIZE - (MIN_MATCH + MAX_MATCH):
            w = self.window
            w[:WINDOW_SIZE] = w[WINDOW_SIZE:]
            self.index -= WINDOW_SIZE
            self.window_end -= WINDOW_SIZE
            self.block_start = self.block_start - WINDOW_SIZE if self.block_start >= WINDOW_SIZE else MAX_INT32
            self.hash_offset += WINDOW_SIZE
            if self.hash_offset > MAX_HASH_OFFSET:
                delta = self.hash_offset - 1
                self.hash_offset -= delta
                self.chain_head -= delta
                self.hash_prev = [v - delta if v > delta else 0 for v in self.hash_prev]
                self.hash_head = [v - delta if v > delta else 0 for v in self.hash_head]
        n = min(len(data), 2 * WINDOW_SIZE - self.window_end)
        self.window[self.window_end:self.window_end + n] = data[:n]
        self.window_end += n
        return n

    def _write_block(self, index: int) -> None:
        if index > 0:
            data = bytes(self.window[self.block_start:index]) if self.block_start <= index else None
            self.block_start = index
            self.w.write_block(self.tokens, False, data)
        self.tokens = []

    def _find_match(self, pos: int, prev_head: int, prev_length: int, lookahead: int) -> tuple[int, int, bool]:
        w = self.window
        look = min(lookahead, MAX_MATCH)
        nice = min(look, NICE)
        tries = CHAIN
        length = prev_length
        if length >= GOOD:
            tries >>= 2
        w_end = w[pos + length]
        target = None
        min_index = pos - WINDOW_SIZE
        offset, ok = 0, False
        i = prev_head
        hash_prev, hash_offset = self.hash_prev, self.hash_offset
        while tries > 0:
            # a longer match needs the first length+1 bytes equal: test that cheaply first
            if w_end == w[i + length] and w[i:i + length + 1] == w[pos:pos + length + 1]:
                if target is None:
                    target = bytes(w[pos:pos + look])
                candidate = bytes(w[i:i + look])
                n = look if candidate == target else _common_prefix(candidate, target)
                if n > length and (n > MIN_MATCH or pos - i <= 4096):
                    length, offset, ok = n, pos - i, True
                    if n >= nice:
                        break
                    w_end = w[pos + n]
            if i == min_index:
                break
            i = hash_prev[i & WINDOW_MASK] - hash_offset
            if i < min_index or i < 0:
                break
            tries -= 1
        return length, offset, ok

    def deflate(self) -> None:
        if self.window_end - self.index < MIN_MATCH + MAX_MATCH and not self.sync:
            return
        w = self.window
        hash_head, hash_prev = self.hash_head, self.hash_prev
        hash_offset = self.hash_offset
        max_insert = self.window_end - (MIN_MATCH - 1)
        index = self.index
        tokens = self.tokens
        while True:
            lookahead = self.window_end - index
            if lookahead < MIN_MATCH + MAX_MATCH:
                if not self.sync:
                    break
                if lookahead == 0:
                    if self.byte_available:
                        tokens.append(w[index - 1])
                        self.byte_available = False
                    if tokens:
                        self._write_block(index)
                        tokens = self.tokens
                    break
            if index < max_insert:
                h = (((w[index] << 24 | w[index + 1] << 16 | w[index + 2] << 8 | w[index + 3]) * HASHMUL)
                     & 0xFFFFFFFF) >> HASH_SHIFT
                self.chain_head = hash_head[h]
                hash_prev[index & WINDOW_MASK] = self.chain_head
                hash_head[h] = index + hash_offset
            prev_length, prev_offset = self.length, self.offset
            self.length, self.offset = MIN_MATCH - 1, 0
            min_index = index - WINDOW_SIZE if index > WINDOW_SIZE else 0
            if (self.chain_head - hash_offset >= min_index and lookahead > prev_length
                    and prev_length < LAZY):
                length, offset, ok = self._find_match(index, self.chain_head - hash_offset, MIN_MATCH - 1,
                                                      lookahead)
                if ok:
                    self.length, self.offset = length, offset
            if prev_length >= MIN_MATCH and self.length <= prev_length:
                tokens.append(MATCH_TYPE + ((prev_length - BASE_MATCH_LENGTH) << LENGTH_SHIFT)
                              + (prev_offset - BASE_MATCH_OFFSET))
                new_index = index + prev_length - 1
                index += 1
                while index < new_index:
                    if index < max_insert:
                        h = (((w[index] << 24 | w[index + 1] << 16 | w[index + 2] << 8 | w[index + 3])
                              * HASHMUL) & 0xFFFFFFFF) >> HASH_SHIFT
                        hash_prev[index & WINDOW_MASK] = hash_head[h]
                        hash_head[h] = index + hash_offset
                    index += 1
                self.byte_available = False
                self.length = MIN_MATCH - 1
                if len(tokens) == MAX_BLOCK_TOKENS:
                    self._write_block(index)
                    tokens = self.tokens
            else:
                if self.byte_available:
                    tokens.append(w[index - 1])
                    if len(tokens) == MAX_BLOCK_TOKENS:
                        self._write_block(index)
                        tokens = self.tokens
                index += 1
                self.byte_available = True
        self.index = index

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while len(view):
            self.deflate()
            view = view[self.fill(view):]

    def close(self) -> bytes:
        self.sync = True
        self.deflate()
        self.w.write_stored_header(0, True)
        self.w.flush()
        return bytes(self.w.out)


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of two equally long byte strings (they differ somewhere)."""
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


# --------------------------------------------------------------------------- gzip


def go_gzip(data: bytes, chunk: int = 32 * 1024) -> bytes:
    """``gzip.NewWriter`` + ``io.Copy`` + ``Close`` in Go: the bytes Docker pushes for ``data``."""
    comp = _Compressor()
    for start in range(0, len(data), chunk):  # io.Copy writes 32 KiB at a time
        comp.write(data[start:start + chunk])
    body = comp.close()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + body + trailer


def compress(data: bytes, limit: int | None = DEFAULT_LIMIT) -> bytes:
    """Docker's bytes when ``data`` is at most ``limit`` long, else zlib's (much faster)."""
    if limit is None or len(data) <= limit:
        return go_gzip(data)
    import gzip

    return gzip.compress(data, compresslevel=6, mtime=0)
