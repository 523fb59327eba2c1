"""Access codes: generation, normalisation of typed input, and keyed hashing.

A code is 12 characters from a 31-character alphabet without look-alikes (no ``0/O``,
``1/I/L``), drawn with :mod:`secrets`: 12 · log2(31) ≈ 59.4 bits. It is shown in groups of
four (``K7QM-P3XA-9TFD``). Typed input is normalised: case, spaces, dashes and dots do not
matter.

Only keyed hashes are stored (HMAC-SHA-256 with a per-installation secret). The access-code
table and the draft table use *different* keys, so their rows cannot be matched without the
plaintext code, which only the municipality holds.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
CODE_GROUP = 4
CODE_BITS = CODE_LENGTH * math.log2(len(CODE_ALPHABET))

_IGNORED = str.maketrans("", "", " -_.\t\n\r\u00a0\u2010\u2011\u2012\u2013\u2014")
_ALPHABET_SET = frozenset(CODE_ALPHABET)


def generate_code() -> str:
    """A fresh code from the CSPRNG, grouped for typing (``K7QM-P3XA-9TFD``)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(raw: str) -> str:
    """Group a normalised code in blocks of :data:`CODE_GROUP` characters."""
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, len(raw), CODE_GROUP))


def normalise_code(typed: str) -> str | None:
    """The canonical form of typed input (upper case, no separators), or ``None`` if it
    cannot be a code (wrong length or a character outside the alphabet)."""
    raw = typed.translate(_IGNORED).upper()
    if len(raw) != CODE_LENGTH or not set(raw) <= _ALPHABET_SET:
        return None
    return raw


def keyed_hash(key: bytes, *parts: str) -> str:
    """HMAC-SHA-256 of ``parts`` (separated by NUL) under ``key``, as hex."""
    message = "\x00".join(parts).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
