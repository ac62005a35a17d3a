"""Room and user modes: which exist, which take a parameter, and parsing a mode string into changes.

Room modes (ISUPPORT ``CHANMODES=beI,k,l,imnst`` and ``PREFIX=(ov)@+``):

- lists, always with a mask: ``b`` ban, ``e`` ban exception, ``I`` invite exception (no mask: show the list);
- ``k`` key: a parameter to set and to unset; ``l`` member limit: a parameter to set only;
- flags: ``i`` invite only, ``m`` moderated, ``n`` no messages from outside, ``s`` secret, ``t`` topic by ops;
- member status, with a nickname: ``o`` operator, ``v`` voice.

User modes: ``i`` invisible, ``w`` receives wallops, ``o`` operator (given by OPER, removable by its holder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .names import is_clean

__all__ = [
    "LIST_MODES",
    "MAX_PARAM_MODES",
    "PREFIX_MODES",
    "ROOM_FLAGS",
    "USER_MODES",
    "ModeRequest",
    "parse_limit",
    "parse_room_modes",
    "valid_key",
]

LIST_MODES = "beI"
PARAM_ALWAYS = "k"
PARAM_ON_SET = "l"
ROOM_FLAGS = "imnst"
PREFIX_MODES = "ov"
PREFIX_SYMBOLS = {"o": "@", "v": "+"}
USER_MODES = "iow"
#: At most this many modes with a parameter in one MODE command (ISUPPORT MODES).
MAX_PARAM_MODES = 4
#: The longest room key (+k).
KEY_MAX = 23

CHANMODES_ISUPPORT = f"{LIST_MODES},{PARAM_ALWAYS},{PARAM_ON_SET},{ROOM_FLAGS}"
PREFIX_ISUPPORT = "(ov)@+"


@dataclass(slots=True)
class ModeRequest:
    """A parsed MODE request: changes to make, lists to show, and letters that were not understood."""

    changes: list[tuple[str, str | None]]
    queries: list[str]
    unknown: list[str]
    missing: list[str]


def parse_room_modes(modestring: str, args: Sequence[str]) -> ModeRequest:
    """Split ``+mb-o *!*@bad bob`` into [("+m", None), ("+b", "*!*@bad"), ("-o", "bob")]."""
    request = ModeRequest([], [], [], [])
    sign = "+"
    params = list(args)
    with_param = 0
    for ch in modestring:
        if ch in "+-":
            sign = ch
            continue
        if ch in LIST_MODES:
            if not params:
                if ch not in request.queries:
                    request.queries.append(ch)
                continue
            takes = True
        elif ch in PREFIX_MODES or ch in PARAM_ALWAYS:
            takes = True
        elif ch in PARAM_ON_SET:
            takes = sign == "+"
        elif ch in ROOM_FLAGS:
            takes = False
        else:
            request.unknown.append(ch)
            continue
        if takes:
            if not params:
                if ch == "k" and sign == "-":
                    request.changes.append(("-k", None))
                else:
                    request.missing.append(sign + ch)
                continue
            if with_param >= MAX_PARAM_MODES:
                continue
            with_param += 1
            request.changes.append((sign + ch, params.pop(0)))
        else:
            request.changes.append((sign + ch, None))
    return request


def valid_key(key: str) -> bool:
    """Whether ``key`` can be a room key (+k): 1 to ``KEY_MAX`` characters, no space or comma, and not
    starting with ``:`` (a key must work as a middle parameter of JOIN and of RPL_CHANNELMODEIS), and clean
    (:func:`~hubbub.core.names.is_clean`: no control or format character)."""
    return 0 < len(key) <= KEY_MAX and " " not in key and "," not in key and key[0] != ":" and is_clean(key)


def parse_limit(arg: str) -> int:
    """The member limit (+l) that ``arg`` gives, or 0 when it is not a positive decimal number."""
    if not arg.isascii() or not arg.isdigit():
        return 0
    return int(arg)
