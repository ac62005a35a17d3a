"""Settings shared by every plain-text session of a server."""

from __future__ import annotations

__all__ = ["PlainOptions"]


class PlainOptions:
    """Settings shared by every plain-text session of a server."""

    __slots__ = ("default_room", "history_replay", "line_timeout", "max_line", "motd", "opers", "server_name")

    def __init__(
        self,
        *,
        max_line: int = 2048,
        default_room: str = "#lobby",
        server_name: str = "hubbub",
        history_replay: int = 20,
        opers: dict[str, str] | None = None,
        line_timeout: float = 300.0,
        motd: list[str] | None = None,
    ):
        self.max_line = max_line
        self.default_room = default_room
        self.server_name = server_name
        #: Lines of a room's history shown on joining it (0: none).
        self.history_replay = history_replay
        #: Seconds a started line may stay incomplete before the client is disconnected.
        self.line_timeout = line_timeout
        #: Server operators: name -> password (a scrypt hash or clear text). The server shares one table with
        #: the IRC sessions, so that a configuration reload updates both.
        self.opers: dict[str, str] = opers if opers is not None else {}
        #: The message of the day (the ``motd`` file's lines), shown on arrival and by /motd; None: none.
        self.motd = motd
