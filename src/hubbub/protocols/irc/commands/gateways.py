"""WEBIRC: a web gateway says who its user is (https://ircv3.net/specs/extensions/webirc).

A web client such as The Lounge, webircgateway or Kiwi IRC connects to the server itself, once per user, so
without WEBIRC every user behind it would have the gateway's address: one K-line would ban them all, and the
per-address limits would count them together. The gateway sends, before registering::

    WEBIRC <password> <gateway> <hostname> <ip> [:<options>]

It is honoured only from a connection whose address is in ``--trusted-proxy`` and with the password set for
that gateway's name (``--webirc NAME:PASSWORD``, ``[webirc]``; a scrypt hash is checked off the loop, and
registration waits for the answer). Then ``ip`` becomes the connection's address everywhere (the user's host,
K-lines and bans, the per-address limits, the log); ``hostname`` is not used, as ergo does not by default. The
option ``secure`` (or ``tls``) marks the user as on TLS, believed only when the gateway's own connection is
over TLS or from the loopback, as ergo does. Anything else (an untrusted address, an unknown gateway, a wrong
password, an invalid IP) is refused with ergo's words, and the connection closes. A second WEBIRC, or one
after registration, is ignored, as ergo ignores it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ....core.opers import check_secret
from ....wire.irc import Message
from ...proxy import canonical_ip, is_loopback
from ..table import command
from .registration import WEBIRC_DONE, WEBIRC_PENDING, try_register

if TYPE_CHECKING:
    from ..session import IrcSession

__all__ = ["REFUSED", "webirc"]

log = logging.getLogger("hubbub.irc")

#: What a refused gateway is told (ergo's words).
REFUSED = "WEBIRC command is not usable from your address or incorrect password given"


@command("WEBIRC", min_params=4, pre_registration=True)
def webirc(session: IrcSession, msg: Message) -> None:
    """WEBIRC <password> <gateway> <hostname> <ip> [:<options>]: a trusted web gateway gives its user's
    address, before registration."""
    if session.registered or session.webirc:
        return
    password, gateway, _hostname, ip = msg.params[:4]
    link = session.link
    gateway_address = link.peer_host
    flags = msg.params[4].split(" ") if len(msg.params) > 4 else []
    wants_tls = any(flag.partition("=")[0].lower() in ("secure", "tls") for flag in flags)
    secure = wants_tls and (link.secure or is_loopback(gateway_address))
    expected = session.options.webirc.get(gateway)
    if not link.trusted_proxy or expected is None:
        why = "not a --trusted-proxy address" if not link.trusted_proxy else "unknown gateway"
        _refuse(session, f"{why} ({gateway[:50]!r} from {gateway_address})", REFUSED)
        return
    session.webirc = WEBIRC_PENDING

    def checked(ok: bool) -> None:
        if session.closing or session.webirc != WEBIRC_PENDING:
            return
        if not ok:
            _refuse(session, f"wrong password for gateway {gateway!r} from {gateway_address}", REFUSED)
            return
        address = canonical_ip(ip)
        if address is None:
            _refuse(session, f"gateway {gateway!r} gave an invalid IP {ip[:50]!r}", "proxied IP is not valid")
            return
        session.webirc = WEBIRC_DONE
        if address != link.peer_host and not link.set_client_address(address, f"WEBIRC gateway {gateway}"):
            session.closing = True  # told why, and closing: nothing more from this connection
            return
        link.secure = secure
        try_register(session)

    check_secret(session.hub, expected, password, checked)


def _refuse(session: IrcSession, why: str, told: str) -> None:
    log.warning("WEBIRC refused: %s", why)
    session.webirc = WEBIRC_DONE
    session.disconnect(told)
