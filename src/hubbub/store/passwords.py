"""Password hashing with scrypt (memory-hard), stdlib only.

Stored form: ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``. Hashing and verifying take tens of
milliseconds on purpose: never call them on the event loop, run them in an executor
(``await loop.run_in_executor(None, verify_password, password, stored)``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

__all__ = ["hash_password", "verify_password"]

N, R, P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32

# Bounds on the parameters read back from a stored hash, so that a bad record cannot make a check run away.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=128 * r * (n + p + 2) + 1024 * 1024,
        dklen=length,
    )


def hash_password(password: str) -> str:
    """Hash ``password`` with a fresh random salt. Slow on purpose: run it in an executor."""
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, N, R, P, HASH_BYTES)
    return f"scrypt${N}${R}${P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (from :func:`hash_password`). Any malformed ``stored`` gives
    False, never an exception. Slow on purpose: run it in an executor."""
    try:
        scheme, n_text, r_text, p_text, salt_text, hash_text = stored.split("$")
        if not all(text.isascii() and text.isdigit() for text in (n_text, r_text, p_text)):
            return False
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(hash_text, validate=True)
    except (ValueError, binascii.Error, AttributeError):
        return False
    if (
        scheme != "scrypt"
        or not (2 <= n <= _MAX_N and n & (n - 1) == 0)
        or not (1 <= r <= _MAX_R and 1 <= p <= _MAX_P)
        or not salt
        or not 16 <= len(expected) <= 64
    ):
        return False
    try:
        candidate = _scrypt(password, salt, n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, expected)
