"""A tiny static Linux program that writes a text to stdout and exits 0, as ELF bytes.

The ``hello-world`` stand-in's one program. Written here byte by byte — an ELF header, one
loadable segment, a few instructions (``write(1, text, n)``, ``exit(0)``) and the text — so
the same greeting gives the same bytes, hence the same image digests, on every machine of an
architecture, whatever compiler (if any) is installed. No libc, like Docker's own hello-world.
"""

from __future__ import annotations

import struct

from . import errors

BASE = 0x400000  # where the one segment is mapped
HEADERS = 64 + 56  # ELF64 header + one program header: the code starts right after them


def _x86_64(text_at: int, length: int) -> bytes:
    code_at = BASE + HEADERS
    lea_end = code_at + 5 + 5 + 7  # mov eax; mov edi; lea rsi, [rip+disp32]
    return b"".join([
        b"\xb8" + struct.pack("<I", 1),  # mov eax, 1 (write)
        b"\xbf" + struct.pack("<I", 1),  # mov edi, 1 (stdout)
        b"\x48\x8d\x35" + struct.pack("<i", text_at - lea_end),  # lea rsi, [rip + text]
        b"\xba" + struct.pack("<I", length),  # mov edx, length
        b"\x0f\x05",  # syscall
        b"\xb8" + struct.pack("<I", 60),  # mov eax, 60 (exit)
        b"\x31\xff",  # xor edi, edi
        b"\x0f\x05",  # syscall
    ])


X86_64_CODE_SIZE = 5 + 5 + 7 + 5 + 2 + 5 + 2 + 2


def _aarch64(text_at: int, length: int) -> bytes:
    def movz(reg: int, value: int) -> int:  # movz xN, #value (16 bits)
        return 0xD2800000 | (value << 5) | reg

    offset = text_at - (BASE + HEADERS + 4)  # adr sits at the second instruction
    adr = 0x10000000 | ((offset & 3) << 29) | (((offset >> 2) & 0x7FFFF) << 5) | 1  # adr x1, text
    words = [movz(0, 1), adr, movz(2, length), movz(8, 64), 0xD4000001,  # write(1, text, length)
             movz(0, 0), movz(8, 93), 0xD4000001]  # exit(0)
    return b"".join(struct.pack("<I", w) for w in words)


AARCH64_CODE_SIZE = 8 * 4
MACHINES = {"amd64": (62, _x86_64, X86_64_CODE_SIZE), "arm64": (183, _aarch64, AARCH64_CODE_SIZE)}


def program(text: str, arch: str) -> bytes:
    """The ELF executable printing ``text`` on ``arch`` (Go's names: ``amd64``, ``arm64``)."""
    if arch not in MACHINES:
        raise ValueError(errors.no_standin_program(arch, list(MACHINES)))
    machine, emit, code_size = MACHINES[arch]
    data = text.encode()
    if len(data) >= 1 << 16:
        raise ValueError(errors.greeting_too_big())
    text_at = BASE + HEADERS + code_size
    code = emit(text_at, len(data))
    assert len(code) == code_size
    size = HEADERS + code_size + len(data)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian, ELF v1, System V
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, BASE + HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x10000)  # PT_LOAD, R+X, 64 KiB aligned
    return header + segment + code + data
