"""Tests for hubbub.store.passwords: scrypt hashes that verify, and never raise on bad input."""

from __future__ import annotations

import pytest

from hubbub.store.passwords import hash_password, verify_password


def test_round_trip() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse battery staple", stored)


def test_wrong_password() -> None:
    stored = hash_password("secret")
    assert not verify_password("Secret", stored)
    assert not verify_password("", stored)
    assert not verify_password("secret ", stored)


def test_unicode_and_empty_passwords() -> None:
    for password in ("", "pässwörd 🔑", "\udc80 lone surrogate"):
        assert verify_password(password, hash_password(password))


def test_salt_differs_each_time() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("same", first) and verify_password("same", second)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "$$$$$",
        "scrypt$16384$8$1$!!!$!!!",
        "bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        # n not a power of 2
        "scrypt$16383$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1099511627776$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$8$1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # no salt
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # hash too short
        "scrypt$x$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$extra",
    ],
)
def test_garbage_stored_strings_are_false(stored: str) -> None:
    assert verify_password("anything", stored) is False


def test_parameters_must_be_ascii_digits() -> None:
    stored = hash_password("pw")
    fullwidth = stored.replace("$16384$", "$\uff11\uff16\uff13\uff18\uff14$")  # int() would accept these
    assert fullwidth != stored and not verify_password("pw", fullwidth)
    assert not verify_password("pw", stored.replace("$8$", "$+8$"))


def test_a_valid_looking_record_with_another_hash_is_false() -> None:
    stored = hash_password("one")
    parts = stored.split("$")
    parts[5] = hash_password("two").split("$")[5]
    assert not verify_password("one", "$".join(parts))
