"""Go's ``huffmanBitWriter`` (compress/flate, Go 1.7-1.21): how each block is coded and written.

A block is a list of tokens: runs of literal bytes and (length, offset) matches. Go codes it
three ways — stored, fixed Huffman, dynamic Huffman with Go's own length-limited codes — and
writes the smallest. The sizes are computed exactly as Go computes them (including its quirks:
extra bits only counted for storable blocks, ties resolved towards fixed, then towards Huffman).

Speed: a block of random bytes is always stored, and an optimal-Huffman lower bound proves it
without building Go's codes; the bits of Huffman-coded blocks are packed with numpy.
"""

from __future__ import annotations


from .. import errors


class _Numpy:
    """numpy at first use: only compressing a layer needs it, not every ``import reglab`` (a class
    of learners starts many kernels; docs/classroom-profile.md)."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _Numpy()

MAX_NUM_LIT = 286
OFFSET_CODE_COUNT = 30
CODEGEN_CODE_COUNT = 19
END_BLOCK = 256
LENGTH_CODES_START = 257
MAX_STORE_BLOCK = 65535
BAD_CODE = 255
MAX_INT32 = (1 << 31) - 1

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
_OFFSET_CODES = _code_table(OFFSET_BASE[:16], 256)


def offset_code(off: int) -> int:
    """The offset code of ``off`` (a match offset minus one)."""
    if off < 256:
        return _OFFSET_CODES[off]
    if off >> 7 < 256:
        return _OFFSET_CODES[off >> 7] + 14
    return _OFFSET_CODES[off >> 14] + 28


def _reverse(code: int, length: int) -> int:
    out = 0
    for _ in range(length):
        out = (out << 1) | (code & 1)
        code >>= 1
    return out


# --------------------------------------------------------------------------- Huffman codes


class Encoder:
    """A Huffman code (``code``/``length`` per symbol), built the way Go builds it."""

    def __init__(self, size: int):
        self.code = [0] * size
        self.length = [0] * size

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
        counts = _bit_counts([f for f, _ in nodes], max_bits)
        self._assign(counts, [literal for _, literal in nodes])

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


def _bit_counts(freqs: list[int], max_bits: int) -> list[int]:
    """Go's ``bitCounts``: how many literals get each code length (boundary package-merge)."""
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
        raise AssertionError(errors.huffman_lost_leaf())
    counts = leaf[max_bits]
    bit_count = [0] * (max_bits + 1)
    bits = 1
    for level in range(max_bits, 0, -1):
        bit_count[bits] = counts[level] - counts[level - 1]
        bits += 1
    return bit_count


def optimal_cost(freq) -> int:
    """Bits of an optimal (unlimited) Huffman code for ``freq``: no prefix code costs less.

    Huffman's algorithm with two queues: the leaves sorted, and the merged nodes, which come
    out in order by themselves.
    """
    leaves = sorted(f for f in freq if f)
    if len(leaves) < 2:
        return 0
    leaves.append(float("inf"))
    merged: list[int] = []
    i = j = cost = 0
    for _ in range(len(leaves) - 2):
        if j < len(merged) and merged[j] < leaves[i]:
            a, j = merged[j], j + 1
        else:
            a, i = leaves[i], i + 1
        if j < len(merged) and merged[j] < leaves[i]:
            b, j = merged[j], j + 1
        else:
            b, i = leaves[i], i + 1
        cost += a + b
        merged.append(a + b)
    return cost


def _fixed_literal() -> Encoder:
    enc = Encoder(MAX_NUM_LIT)
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


def _fixed_offset() -> Encoder:
    enc = Encoder(OFFSET_CODE_COUNT)
    for i in range(OFFSET_CODE_COUNT):
        enc.code[i], enc.length[i] = _reverse(i, 5), 5
    return enc


FIXED_LITERAL = _fixed_literal()
FIXED_OFFSET = _fixed_offset()


# --------------------------------------------------------------------------- the bit stream


class BitStream:
    """Bits written LSB first (deflate's order); ``align`` pads to a byte as Go's ``flush`` does."""

    PACK_AT = 1 << 16  # fields kept before packing them into bytes (bounds the memory used)

    def __init__(self):
        self.out = bytearray()
        self._values: list[np.ndarray] = []
        self._widths: list[np.ndarray] = []
        self._pending = 0
        self._carry = (0, 0)  # bits not yet a whole byte: (value, count)

    def bits(self, value: int, width: int) -> None:
        self.fields(np.array([value], dtype=np.uint64), np.array([width], dtype=np.int64))

    def fields(self, values: np.ndarray, widths: np.ndarray) -> None:
        self._values.append(values.astype(np.uint64, copy=False))
        self._widths.append(widths.astype(np.int64, copy=False))
        self._pending += len(values)
        if self._pending >= self.PACK_AT:
            self._pack(align=False)

    def align(self) -> None:
        self._pack(align=True)

    def raw(self, data: bytes) -> None:
        self.align()
        self.out += data

    def _pack(self, align: bool) -> None:
        value, count = self._carry
        values = np.concatenate([np.array([value], dtype=np.uint64), *self._values])
        widths = np.concatenate([np.array([count], dtype=np.int64), *self._widths])
        self._values, self._widths, self._pending = [], [], 0
        total = int(widths.sum())
        if total:
            starts = np.repeat(np.cumsum(widths) - widths, widths)
            shifts = (np.arange(total, dtype=np.int64) - starts).astype(np.uint64)
            bits = ((np.repeat(values, widths) >> shifts) & np.uint64(1)).astype(np.uint8)
        else:
            bits = np.zeros(0, dtype=np.uint8)
        whole = total if align else total - total % 8
        self.out += np.packbits(bits[:whole], bitorder="little").tobytes()
        rest = bits[whole:]
        self._carry = (int(sum(int(b) << i for i, b in enumerate(rest))), len(rest))


# --------------------------------------------------------------------------- blocks


class Block:
    """The tokens of one block: literal runs (``start``, ``stop`` into the data) and matches."""

    __slots__ = ("items", "count")

    def __init__(self):
        self.items: list[tuple[int, int, int]] = []  # (0, start, stop) literals | (1, length, offset - 1)
        self.count = 0

    def literals(self, start: int, stop: int) -> None:
        items = self.items
        if items and items[-1][0] == 0 and items[-1][2] == start:
            items[-1] = (0, items[-1][1], stop)
        else:
            items.append((0, start, stop))
        self.count += stop - start

    def match(self, length: int, offset: int) -> None:
        self.items.append((1, length, offset - 1))
        self.count += 1


class BlockWriter:
    """Go's ``huffmanBitWriter.writeBlock`` over :class:`Block` tokens, into a :class:`BitStream`."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.stream = BitStream()
        self.literal_enc = Encoder(MAX_NUM_LIT)
        self.offset_enc = Encoder(OFFSET_CODE_COUNT)
        self.codegen_enc = Encoder(CODEGEN_CODE_COUNT)

    def stored_header(self, length: int, eof: bool) -> None:
        self.stream.bits(1 if eof else 0, 3)
        self.stream.align()
        self.stream.bits(length | ((~length & 0xFFFF) << 16), 32)

    def _frequencies(self, block: Block) -> tuple[list[int], list[int]]:
        data = self.data
        runs = [data[a:b] for kind, a, b in block.items if kind == 0]
        lit = np.bincount(np.concatenate(runs), minlength=MAX_NUM_LIT) if runs else np.zeros(MAX_NUM_LIT, np.int64)
        lit = lit.tolist()
        off = [0] * OFFSET_CODE_COUNT
        for kind, length, offset in block.items:
            if kind == 1:
                lit[LENGTH_CODES_START + LENGTH_CODES[length - 3]] += 1
                off[offset_code(offset)] += 1
        lit[END_BLOCK] += 1
        return lit, off

    def write(self, block: Block, eof: bool, stored: bytes | None) -> None:
        lit_freq, off_freq = self._frequencies(block)
        num_literals = MAX_NUM_LIT
        while lit_freq[num_literals - 1] == 0:
            num_literals -= 1
        num_offsets = OFFSET_CODE_COUNT
        while num_offsets > 0 and off_freq[num_offsets - 1] == 0:
            num_offsets -= 1
        if num_offsets == 0:
            off_freq[0] = 1
            num_offsets = 1
        storable = stored is not None and len(stored) <= MAX_STORE_BLOCK
        stored_size = (len(stored) + 5) * 8 if storable else 0
        extra_bits = 0
        if storable:
            for code in range(LENGTH_CODES_START + 8, num_literals):
                extra_bits += lit_freq[code] * LENGTH_EXTRA_BITS[code - LENGTH_CODES_START]
            for code in range(4, num_offsets):
                extra_bits += off_freq[code] * OFFSET_EXTRA_BITS[code]
        fixed_size = 3 + FIXED_LITERAL.bit_length(lit_freq) + FIXED_OFFSET.bit_length(off_freq) + extra_bits
        if storable and stored_size < fixed_size:
            # a dynamic header is at least 3+5+5+4 bits and 4 code lengths of 3 bits; its codes
            # cost at least an optimal Huffman code's bits: if that already loses, store
            lower = 29 + optimal_cost(lit_freq) + optimal_cost(off_freq) + extra_bits
            if stored_size < lower:
                self.stored_header(len(stored), eof)
                self.stream.raw(stored)
                return
        self.literal_enc.generate(lit_freq, 15)
        self.offset_enc.generate(off_freq, 15)
        codegen, codegen_freq = self._codegen(num_literals, num_offsets)
        self.codegen_enc.generate(codegen_freq, 7)
        num_codegens = CODEGEN_CODE_COUNT
        while num_codegens > 4 and codegen_freq[CODEGEN_ORDER[num_codegens - 1]] == 0:
            num_codegens -= 1
        header = (3 + 5 + 5 + 4 + 3 * num_codegens + self.codegen_enc.bit_length(codegen_freq)
                  + codegen_freq[16] * 2 + codegen_freq[17] * 3 + codegen_freq[18] * 7)
        dynamic_size = (header + self.literal_enc.bit_length(lit_freq) + self.offset_enc.bit_length(off_freq)
                        + extra_bits)
        size, lit_enc, off_enc = fixed_size, FIXED_LITERAL, FIXED_OFFSET
        if dynamic_size < size:
            size, lit_enc, off_enc = dynamic_size, self.literal_enc, self.offset_enc
        if storable and stored_size < size:
            self.stored_header(len(stored), eof)
            self.stream.raw(stored)
            return
        if lit_enc is FIXED_LITERAL:
            self.stream.bits(3 if eof else 2, 3)
        else:
            self._dynamic_header(num_literals, num_offsets, num_codegens, codegen, eof)
        self._tokens(block, lit_enc, off_enc)

    def _codegen(self, num_literals: int, num_offsets: int) -> tuple[list[int], list[int]]:
        """Go's ``generateCodegen``: the code lengths, run-length coded with codes 16, 17, 18."""
        lengths = self.literal_enc.length[:num_literals] + self.offset_enc.length[:num_offsets] + [BAD_CODE]
        freq = [0] * CODEGEN_CODE_COUNT
        codegen = []
        size, count, index = lengths[0], 1, 1
        while size != BAD_CODE:
            next_size = lengths[index]
            index += 1
            if next_size == size:
                count += 1
                continue
            if size != 0:
                codegen.append(size)
                freq[size] += 1
                count -= 1
                while count >= 3:
                    n = min(6, count)
                    codegen += [16, n - 3]
                    freq[16] += 1
                    count -= n
            else:
                while count >= 11:
                    n = min(138, count)
                    codegen += [18, n - 11]
                    freq[18] += 1
                    count -= n
                if count >= 3:
                    codegen += [17, count - 3]
                    freq[17] += 1
                    count = 0
            count -= 1
            while count >= 0:
                codegen.append(size)
                freq[size] += 1
                count -= 1
            size, count = next_size, 1
        codegen.append(BAD_CODE)
        return codegen, freq

    def _dynamic_header(self, num_literals: int, num_offsets: int, num_codegens: int, codegen: list[int],
                        eof: bool) -> None:
        bits = self.stream.bits
        bits(5 if eof else 4, 3)
        bits(num_literals - 257, 5)
        bits(num_offsets - 1, 5)
        bits(num_codegens - 4, 4)
        enc = self.codegen_enc
        for i in range(num_codegens):
            bits(enc.length[CODEGEN_ORDER[i]], 3)
        values, widths = [], []
        i = 0
        while codegen[i] != BAD_CODE:
            word = codegen[i]
            i += 1
            values.append(enc.code[word])
            widths.append(enc.length[word])
            if word in (16, 17, 18):
                values.append(codegen[i])
                widths.append({16: 2, 17: 3, 18: 7}[word])
                i += 1
        self.stream.fields(np.array(values, dtype=np.uint64), np.array(widths, dtype=np.int64))

    def _tokens(self, block: Block, lit: Encoder, off: Encoder) -> None:
        lcode = np.array(lit.code, dtype=np.uint64)
        llen = np.array(lit.length, dtype=np.int64)
        values, widths = [], []
        pending_v, pending_w = [], []  # the fields of consecutive matches, gathered in Python
        for kind, a, b in block.items:
            if kind == 0:
                if pending_v:
                    values.append(np.array(pending_v, dtype=np.uint64))
                    widths.append(np.array(pending_w, dtype=np.int64))
                    pending_v, pending_w = [], []
                chunk = self.data[a:b]
                values.append(lcode[chunk])
                widths.append(llen[chunk])
                continue
            length, offset = a, b
            code = LENGTH_CODES[length - 3]
            pending_v.append(lit.code[code + LENGTH_CODES_START])
            pending_w.append(lit.length[code + LENGTH_CODES_START])
            pending_v.append(length - 3 - LENGTH_BASE[code])
            pending_w.append(LENGTH_EXTRA_BITS[code])
            code = offset_code(offset)
            pending_v.append(off.code[code])
            pending_w.append(off.length[code])
            pending_v.append(offset - OFFSET_BASE[code])
            pending_w.append(OFFSET_EXTRA_BITS[code])
        pending_v.append(lit.code[END_BLOCK])
        pending_w.append(lit.length[END_BLOCK])
        values.append(np.array(pending_v, dtype=np.uint64))
        widths.append(np.array(pending_w, dtype=np.int64))
        self.stream.fields(np.concatenate(values), np.concatenate(widths))
