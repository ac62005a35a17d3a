"""Settings shared by every IRC session of a server, and the ISUPPORT tokens that describe them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ... import __version__
from ...core.hub import HubLimits
from ...core.modes import CHANMODES_ISUPPORT, MAX_PARAM_MODES, PREFIX_ISUPPORT
from ...wire import numerics as n

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
    #: WEBIRC gateway name -> password (the gateway must also connect from --trusted-proxy).
    webirc: dict[str, str] = field(default_factory=dict)
    registration_timeout: float = 60.0
    #: Lines of a channel's history replayed on JOIN to clients without draft/chathistory (0: none).
    history_replay: int = 20
    #: The most messages one CHATHISTORY command returns (ISUPPORT CHATHISTORY).
    chathistory_max: int = 1000
    ping_interval: float = 90.0
    ping_timeout: float = 60.0
    #: Seconds a started line may stay incomplete before the client is disconnected.
    line_timeout: float = 300.0
    max_body: int = 512
    max_tags: int = 8191
    limits: HubLimits = field(default_factory=HubLimits)
    #: IRCv3 sts: the TLS port plain-text connections are sent to, and the policy's duration in seconds
    #: (either 0: no sts).
    sts_port: int = 0
    sts_duration: int = 0
    version: str = f"hubbub-{__version__}"
    created: str = field(default_factory=lambda: time.strftime("%a %b %d %Y at %H:%M:%S UTC", time.gmtime()))
    _welcome: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _motd: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def welcome_lines(self) -> tuple[str, ...]:
        """002-005 rendered once as a template: ``nick.join(template)`` is the wire text for ``nick``."""
        if self._welcome is None:
            server = self.server_name
            rows = [
                (n.RPL_YOURHOST, f":Your host is {server}, running version {self.version}"),
                (n.RPL_CREATED, f":This server was created {self.created}"),
                (n.RPL_MYINFO, f"{server} {self.version} iow beIiklmnostv beIklov"),
            ]
            tokens = self.isupport()
            for i in range(0, len(tokens), 13):
                rows.append((n.RPL_ISUPPORT, " ".join(tokens[i : i + 13]) + " :are supported by this server"))
            self._welcome = _template(server, rows)
        return self._welcome

    def motd_lines(self) -> tuple[str, ...]:
        """375, 372... and 376 (or 422) as a template, like :meth:`welcome_lines`."""
        if self._motd is None:
            server = self.server_name
            if self.motd is None:
                rows = [(n.ERR_NOMOTD, ":MOTD File is missing")]
            else:
                rows = [(n.RPL_MOTDSTART, f":- {server} Message of the day - ")]
                rows += [(n.RPL_MOTD, f":- {text}") for text in self.motd]
                rows.append((n.RPL_ENDOFMOTD, ":End of /MOTD command."))
            self._motd = _template(server, rows)
        return self._motd

    def settings_changed(self) -> None:
        """The settings were changed in place (a reload): render the welcome and MOTD templates again."""
        self._welcome = self._motd = None

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
            f"CHATHISTORY={self.chathistory_max}",
            "ELIST=MNU",
            "EXCEPTS=e",
            "INVEX=I",
            f"KICKLEN={limits.kick_max}",
            f"MAXLIST=beI:{limits.list_max}",
            f"MAXTARGETS={MAX_TARGETS}",
            f"MODES={MAX_PARAM_MODES}",
            f"MONITOR={MONITOR_MAX}",
            "MSGREFTYPES=msgid,timestamp",
            f"NAMELEN={limits.realname_max}",
            f"NETWORK={self.network}",
            f"NICKLEN={limits.nick_max}",
            f"PREFIX={PREFIX_ISUPPORT}",
            "SAFELIST",
            "STATUSMSG=@+",
            f"TARGMAX={targmax}",
            f"TOPICLEN={limits.topic_max}",
            f"USERLEN={USERLEN}",
            "UTF8ONLY",
            "WHOX",
        ]


def _template(server: str, rows: list[tuple[str, str]]) -> tuple[str, ...]:
    """Numeric replies ``(code, rest)`` with the nickname left out: ``nick.join(result)`` fills it in."""
    segments = [""]
    for code, rest in rows:
        segments[-1] += f":{server} {code} "
        segments.append(f" {rest}\r\n")
    return tuple(segments)
