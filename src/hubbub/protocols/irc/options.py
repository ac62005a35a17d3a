"""Settings shared by every IRC session of a server, and the ISUPPORT tokens that describe them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ... import __version__
from ...core.hub import HubLimits
from ...core.modes import CHANMODES_ISUPPORT, MAX_PARAM_MODES, PREFIX_ISUPPORT

__all__ = ["IrcOptions"]

USERLEN = 20
MAX_TARGETS = 4
MONITOR_MAX = 100


@dataclass(slots=True)
class IrcOptions:
    server_name: str = "hubbub"
    network: str = "hubbub"
    #: Lines of the message of the day; ``None``: no MOTD (422).
    motd: list[str] | None = None
    #: Server password (PASS); "" for none.
    password: str = ""
    #: Operator name -> password.
    opers: dict[str, str] = field(default_factory=dict)
    registration_timeout: float = 60.0
    ping_interval: float = 90.0
    ping_timeout: float = 60.0
    max_body: int = 512
    max_tags: int = 8191
    limits: HubLimits = field(default_factory=HubLimits)
    version: str = f"hubbub-{__version__}"
    created: str = field(default_factory=lambda: time.strftime("%a %b %d %Y at %H:%M:%S UTC", time.gmtime()))

    @property
    def max_line(self) -> int:
        """The framing limit: a tag section and a body, with their separators."""
        return self.max_tags + self.max_body

    def isupport(self) -> list[str]:
        limits = self.limits
        targmax = ",".join(
            f"{verb}:{count}"
            for verb, count in (
                ("JOIN", ""),
                ("KICK", ""),  # any number of nicks, as ergo allows
                ("LIST", "1"),
                ("MONITOR", str(MONITOR_MAX)),
                ("NAMES", "1"),
                ("NOTICE", str(MAX_TARGETS)),
                ("PART", ""),
                ("PRIVMSG", str(MAX_TARGETS)),
                ("TAGMSG", str(MAX_TARGETS)),
                ("WHOIS", "1"),
            )
        )
        return [
            f"AWAYLEN={limits.away_max}",
            "CASEMAPPING=ascii",
            f"CHANLIMIT=#:{limits.rooms_per_user}",
            f"CHANMODES={CHANMODES_ISUPPORT}",
            f"CHANNELLEN={limits.room_max}",
            "CHANTYPES=#",
            "ELIST=MNU",
            "EXCEPTS=e",
            "INVEX=I",
            f"KICKLEN={limits.kick_max}",
            f"MAXLIST=beI:{limits.list_max}",
            f"MAXTARGETS={MAX_TARGETS}",
            f"MODES={MAX_PARAM_MODES}",
            f"MONITOR={MONITOR_MAX}",
            f"NAMELEN={limits.realname_max}",
            f"NETWORK={self.network}",
            f"NICKLEN={limits.nick_max}",
            f"PREFIX={PREFIX_ISUPPORT}",
            "SAFELIST",
            "STATUSMSG=@+",
            f"TARGMAX={targmax}",
            f"TOPICLEN={limits.topic_max}",
            f"USERLEN={USERLEN}",
            "WHOX",
        ]
