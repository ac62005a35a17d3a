"""Messages for someone who is not here: a private message to a registered account nobody is connected as is
kept in history (the private conversation of the two parties, where it would have gone anyway), and shown to
the account at its next login.

State: the account setting ``memos_since``, the time of its first message left since it last took them (set
when one is left and none is waiting; cleared when they are delivered). Nothing else: the messages are the
history's own.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..store import ByTime, StoredMessage, StoreError
from .errors import ChatError, Reason
from .history import account_party, party, private_conversation
from .model import User
from .names import casefold

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["MEMOS_MAX", "SINCE", "leave", "take"]

#: The account setting holding when its waiting messages begin.
SINCE = "memos_since"
#: Messages shown at a login, at most (the latest; the rest stay in /history).
MEMOS_MAX = 100


def leave(hub: Hub, user: User, nick: str, text: str) -> str:
    """Keep ``text`` from ``user`` for the registered account ``nick`` (nobody connected under that
    nickname); the account's name. ChatError NO_SUCH_NICK if ``nick`` is no account or history is off."""
    record = hub.store.get_account(casefold(nick))
    if record is None or not hub.history:
        raise ChatError(Reason.NO_SUCH_NICK, nick, f"No such nickname: {nick}")
    now = time.time()
    one, other = party(user), account_party(record.name)
    hub.store.append(
        StoredMessage(
            0,
            hub.new_msgid(),
            now,
            private_conversation(one, other),
            record.name,
            user.hostmask,
            user.account or None,
            "PRIVMSG",
            text,
            (one, other) if one != other else (one,),
        )
    )
    if not hub.accounts.setting(record.name, SINCE):
        hub.accounts.set_setting(record.name, SINCE, repr(now))
    return record.name


def take(hub: Hub, account: str) -> list[StoredMessage]:
    """The messages left for ``account`` since it last took them, oldest first (at most MEMOS_MAX, the
    latest); they are then taken."""
    since = hub.accounts.setting(account, SINCE)
    if not since:
        return []
    start = float(since) - 0.001
    found: list[StoredMessage] = []
    try:
        for conversation, _ in hub.store.targets((), account_party(account), start, time.time() + 1, 50):
            found += [
                msg
                for msg in hub.store.after(conversation, ByTime(start), MEMOS_MAX)
                if casefold(msg.account or "") != casefold(account)
            ]
    except StoreError:
        return []  # kept for the next login
    hub.accounts.set_setting(account, SINCE, None)
    found.sort(key=lambda msg: (msg.time, msg.seq))
    return found[-MEMOS_MAX:]
