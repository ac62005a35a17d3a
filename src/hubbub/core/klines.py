"""K-lines: server bans on ``nick!user@host`` masks, set by operators, kept in the store.

A K-line has a mask, a reason, who set it and when, and an expiry (``None``: permanent). Adding one
disconnects the users it matches (the others in their rooms see them quit with "K-Lined"); a user it matches
is refused when connecting (:meth:`Hub.connect` raises ``ChatError(Reason.K_LINED)``, the protocols answer).
An expired K-line is ignored, and removed from the store when it is next looked at.

Masks follow ergo and ratbox: ``user@host`` (the usual form, ``*@203.0.113.*``), ``nick!user@host``, a bare
``host`` (``*@host``: it holds a dot or a colon), or the nickname of a connected user (``*@`` their address).
They are kept canonical: ``user@host`` when the nickname part is ``*``, else ``nick!user@host``. The host
matched is the client's address, or its cloak when cloaking is on (either matches); the user part is what the
client gave (IRC: ``~name``; plain text: ``plain``). Matching is a case-insensitive glob
(:func:`hubbub.wire.masks.match_mask`).

Durations, as ratbox and ergo write them: a plain number is minutes (``10``), or a number with a unit
(``30s``, ``10m``, ``2h``, ``1d``, ``1w``), or several of those (``1h30m``); ``0`` is permanent.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..store import KLineRecord
from ..wire.masks import Matcher, compile_mask
from .errors import ChatError, Reason
from .names import casefold

_oper_log = logging.getLogger("hubbub.oper")

if TYPE_CHECKING:
    from .hub import Hub
    from .model import User

__all__ = [
    "MAX_KLINES",
    "KLines",
    "added_notice",
    "canonical_mask",
    "describe",
    "format_duration",
    "parse_duration",
    "shown_reason",
]

#: The most K-lines a server holds: every connection is checked against all of them.
MAX_KLINES = 5000
#: The longest mask and reason kept.
MASK_MAX = 300
REASON_MAX = 390
#: The longest K-line: ten years (a longer one is refused rather than silently shortened).
DURATION_MAX = 10 * 365 * 86400

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"(?:\d{1,9}[smhdw])+\Z|\d{1,9}\Z", re.ASCII | re.IGNORECASE)
_PART_RE = re.compile(r"(\d+)([smhdw])", re.ASCII | re.IGNORECASE)


def parse_duration(text: str) -> float | None:
    """Seconds for a duration (``10`` minutes, ``90s``, ``1h30m``; ``0`` -> 0.0, permanent), or ``None`` when
    ``text`` is not one. ChatError for a duration over :data:`DURATION_MAX`."""
    if not _DURATION_RE.match(text):
        return None
    if text.isdigit():
        seconds = int(text) * 60
    else:
        seconds = sum(int(number) * _UNITS[unit.lower()] for number, unit in _PART_RE.findall(text))
    if seconds > DURATION_MAX:
        raise ChatError(Reason.INVALID_PARAM, text, f"A K-line lasts at most {DURATION_MAX // 86400} days")
    return float(seconds)


def format_duration(seconds: float) -> str:
    """``1d2h3m`` (rounded up to whole minutes past a minute, ``45s`` below)."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    total = -(-total // 60) * 60
    parts = []
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts)


def canonical_mask(mask: str) -> str:
    """``user@host`` or ``nick!user@host`` with the missing parts ``*``; ChatError if it cannot be a mask."""
    bad = ChatError(Reason.INVALID_PARAM, mask[:50], f"Invalid K-line mask: {mask[:50]!r}")
    if not mask or len(mask) > MASK_MAX or not mask.isprintable() or " " in mask or "," in mask:
        raise bad
    nick, bang, rest = mask.rpartition("!") if "!" in mask else ("*", "", mask)
    user, at, host = rest.partition("@")
    if not at:  # ``host`` alone, or ``nick!user``
        user, host = ("*", user) if not bang else (user, "*")
    if "!" in nick or "@" in nick or "@" in host:
        raise bad
    nick, user, host = nick or "*", user or "*", host or "*"
    return f"{user}@{host}" if nick == "*" else f"{nick}!{user}@{host}"


def shown_reason(reason: str) -> str:
    """The part of a reason users see: an operator's note after ``|`` is for operators (ratbox, ergo)."""
    return reason.partition("|")[0].strip() or "No reason given"


def added_notice(oper: User, record: KLineRecord, duration: float | None, killed: list[str]) -> str:
    """Log a new K-line, and return what operators are told of it (both protocols)."""
    length = f"for {format_duration(duration)}" if duration else "permanently"
    _oper_log.info("KLINE: %s banned %s %s: %s", oper.real_hostmask, record.mask, length, record.reason[:200])
    text = f"{oper.nick} added a K-line {length} on {record.mask}: {record.reason}"
    if killed:
        text += f" (disconnected: {', '.join(killed)})"
    return text


def describe(record: KLineRecord, now: float) -> str:
    """``*@host (set by op 5m ago, expires in 10m): reason``, for listings."""
    expiry = "permanent" if record.expires is None else f"expires in {format_duration(record.expires - now)}"
    ago = format_duration(now - record.set_at)
    return f"{record.mask} (set by {record.set_by} {ago} ago, {expiry}): {record.reason}"


def _matcher(mask: str) -> Matcher:
    return compile_mask(mask if "!" in mask else "*!" + mask)


class KLines:
    """The hub's K-lines (``hub.klines``), mirrored in the store."""

    def __init__(self, hub: Hub, now: Callable[[], float] = time.time) -> None:
        self.hub = hub
        self.now = now
        #: folded mask -> (record, compiled mask)
        self._active: dict[str, tuple[KLineRecord, Matcher]] = {}
        current = now()
        for record in hub.store.load_klines():
            if record.expires is not None and record.expires <= current:
                hub.store.remove_kline(record.mask)
            else:
                self._active[casefold(record.mask)] = (record, _matcher(record.mask))

    def __len__(self) -> int:
        return len(self._active)

    def records(self) -> list[KLineRecord]:
        """The K-lines in force, oldest first (expired ones are pruned)."""
        self._prune()
        return sorted((record for record, _ in self._active.values()), key=lambda r: (r.set_at, r.mask))

    def find(self, hostmask: str) -> KLineRecord | None:
        """The K-line in force that matches ``nick!user@host``, if any."""
        expired = False
        current = self.now()
        for record, match in self._active.values():
            if record.expires is not None and record.expires <= current:
                expired = True
            elif match(hostmask):
                return record
        if expired:
            self._prune()
        return None

    def find_address(self, nick: str, username: str, host: str, shown: str) -> KLineRecord | None:
        """The K-line in force on a user at the address ``host`` who shows ``shown`` (its cloak, or ``host``):
        either hostmask may match, as in ergo."""
        found = self.find(f"{nick}!{username}@{host}")
        if found is None and shown != host:
            found = self.find(f"{nick}!{username}@{shown}")
        return found

    def resolve(self, mask: str) -> str:
        """The canonical mask ``mask`` stands for: a connected user's nickname becomes ``*@`` their host."""
        if "!" not in mask and "@" not in mask and "." not in mask and ":" not in mask:
            user = self.hub.find_user(mask)
            if user is not None:
                return canonical_mask(f"*@{user.ip}")  # the real address, not its cloak
        return canonical_mask(mask)

    def add(
        self, oper: User, mask: str, reason: str, duration: float | None, *, myself: bool = False
    ) -> tuple[KLineRecord, list[str]]:
        """Set a K-line (``duration`` seconds, ``None`` or 0 for a permanent one), replacing one on the same
        mask, and disconnect the users it matches. Returns the record and the nicknames disconnected.
        A mask that matches ``oper`` is refused unless ``myself``."""
        _require_oper(oper)
        mask = self.resolve(mask)
        key = casefold(mask)
        match = _matcher(mask)
        if _hits(match, oper) and not myself:
            raise ChatError(
                Reason.INVALID_PARAM,
                mask,
                f"The K-line {mask} would match you ({oper.hostmask}); choose a narrower mask",
            )
        old = self._active.get(key)
        if old is None and len(self._active) >= MAX_KLINES:
            self._prune()
            if len(self._active) >= MAX_KLINES:
                raise ChatError(Reason.INVALID_PARAM, mask, f"There are {MAX_KLINES} K-lines already")
        reason = reason.strip()[:REASON_MAX] or "No reason given"
        now = self.now()
        expires = now + duration if duration else None
        store = self.hub.store
        if old is not None and old[0].mask != mask:
            store.remove_kline(old[0].mask)
        store.add_kline(mask, reason, oper.nick, now, expires)
        record = KLineRecord(mask, reason, oper.nick, now, expires)
        self._active[key] = (record, match)
        shown = shown_reason(reason)
        hit = [user for user in self.hub.users.values() if _hits(match, user) and user is not oper]
        for user in hit:
            self.hub.quit(user, "K-Lined")
            user.client.disconnect(f"K-Lined: {shown}")
        return record, [user.nick for user in hit]

    def remove(self, oper: User, mask: str) -> KLineRecord:
        """Lift the K-line on ``mask``; ChatError if there is none."""
        _require_oper(oper)
        key = casefold(canonical_mask(mask))
        found = self._active.pop(key, None)
        if found is None:
            raise ChatError(Reason.INVALID_PARAM, mask, f"There is no K-line on {canonical_mask(mask)}")
        self.hub.store.remove_kline(found[0].mask)
        return found[0]

    def added_elsewhere(self, record: KLineRecord) -> None:
        """Another node of the cluster set ``record`` (already in the store): enforce it on the users here."""
        self._active[casefold(record.mask)] = (record, _matcher(record.mask))
        match = self._active[casefold(record.mask)][1]
        shown = shown_reason(record.reason)
        for user in [u for u in self.hub.users.values() if not u.node and _hits(match, u)]:
            self.hub.quit(user, "K-Lined")
            user.client.disconnect(f"K-Lined: {shown}")

    def removed_elsewhere(self, mask: str) -> None:
        self._active.pop(casefold(mask), None)

    def _prune(self) -> None:
        current = self.now()
        for key, (record, _) in list(self._active.items()):
            if record.expires is not None and record.expires <= current:
                del self._active[key]
                self.hub.store.remove_kline(record.mask)


def _hits(match: Matcher, user: User) -> bool:
    """Whether a K-line's mask matches ``user`` by its shown or its real hostmask."""
    return any(match(mask) for mask in user.hostmasks)


def _require_oper(user: User) -> None:
    if not user.oper:
        raise ChatError(Reason.NO_PRIVILEGES, "KLINE", "Permission Denied - You're not an IRC operator")
