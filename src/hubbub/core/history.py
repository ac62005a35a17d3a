"""History keys: how the hub names conversations in the store.

A room's conversation is its folded name (``#lobby``). A private conversation is named by its two *parties*,
sorted and joined by a space: a party is ``a:<account>`` for a user logged in to an account, else
``n:<nickname>`` (folded). So a logged-in user finds its private history under its account whatever nickname
it had, while the private history of users who are not logged in follows the nickname.
"""

from __future__ import annotations

from .model import User
from .names import casefold

__all__ = ["party", "private_conversation"]


def party(user: User) -> str:
    """How ``user`` is named in private conversations."""
    return f"a:{casefold(user.account)}" if user.account else f"n:{user.key}"


def private_conversation(one: str, other: str) -> str:
    """The conversation key of two parties, the same whichever sends."""
    return f"{one} {other}" if one <= other else f"{other} {one}"
