"""In-memory IRC clients for unit tests: an IrcSession on a recording link, no sockets, no event loop."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.core.fanout import Queued, enqueue, flatten
from hubbub.core.hub import Hub
from hubbub.protocols.base import Session
from hubbub.protocols.irc import IrcOptions, IrcSession
from hubbub.protocols.plain import PlainOptions, PlainSession
from hubbub.wire.irc import Message, parse


class _Timer:
    def cancel(self) -> None:
        pass


class MemoryLink:
    """A Link that records what the session sends."""

    #: Whether the connection is over TLS (a test sets it to True).
    secure = False
    #: Whether the client is a trusted proxy or gateway (a test sets it to True).
    trusted_proxy = False

    def __init__(self, host: str = "192.0.2.1") -> None:
        self.peer_host = host
        #: The addresses set_client_address was given, with how; ``refuse_address``: answer False instead.
        self.addresses: list[tuple[str, str]] = []
        self.refuse_address = False
        self.out: list[Queued] = []
        self.closed: str | None = None
        self.session: Session | None = None
        #: History rows charged to the client's flood budget.
        self.charged = 0

    @property
    def data(self) -> bytes:
        """Everything queued and not yet taken."""
        return flatten(self.out, self) if self.out else b""

    def send(self, data: bytes) -> None:
        if self.closed is None:
            enqueue(self.out, data)

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        return _Timer()

    def switch(self, session: Session) -> None:
        self.session = session

    def charge_scan(self, items: int) -> None:
        self.scanned = getattr(self, "scanned", 0) + items

    def charge_history(self, rows: int) -> None:
        self.charged += rows

    def set_client_address(self, host: str, how: str) -> bool:
        if self.refuse_address:
            self.send(f"ERROR :Closing Link: {host} (Too many connections from your address)\r\n".encode())
            self.close("Too many connections from your address")
            return False
        self.addresses.append((host, how))
        self.peer_host = host
        self.trusted_proxy = False
        return True

    def take(self) -> list[str]:
        """The lines sent since the last take, without CRLF."""
        text = self.data.decode("utf-8", "replace")
        self.out.clear()
        lines = text.split("\r\n")
        assert lines[-1] == "", f"output does not end with CRLF: {text!r}"
        return lines[:-1]


class IrcClient:
    """An IRC session driven with raw lines; ``take()`` returns what it was sent."""

    def __init__(self, hub: Hub, options: IrcOptions, host: str = "192.0.2.1") -> None:
        self.link = MemoryLink(host)
        self.session = IrcSession(self.link, hub, options)
        self.session.start()

    def send(self, *lines: str) -> list[str]:
        """Send lines; return everything this client received meanwhile (earlier output is discarded)."""
        self.link.take()
        self.session.data_received("".join(line + "\r\n" for line in lines).encode())
        return self.link.take()

    def send_msgs(self, *lines: str) -> list[Message]:
        return [parse(line) for line in self.send(*lines)]

    def take(self) -> list[str]:
        return self.link.take()

    def register(self, nick: str, *caps: str, user: str = "u", realname: str = "Real Name") -> list[str]:
        lines = []
        if caps:
            lines += ["CAP LS 302", f"CAP REQ :{' '.join(caps)}"]
        lines += [f"NICK {nick}", f"USER {user} 0 * :{realname}"]
        if caps:
            lines.append("CAP END")
        out = self.send(*lines)
        assert any(" 001 " in line for line in out), out
        return out

    @property
    def nick(self) -> str:
        return self.session.me


class PlainClient:
    def __init__(self, hub: Hub, options: PlainOptions | None = None) -> None:
        self.link = MemoryLink("198.51.100.7")
        self.session = PlainSession(self.link, hub, options or PlainOptions())
        self.session.start()

    def send(self, *lines: str) -> list[str]:
        self.link.take()
        self.session.data_received("".join(line + "\n" for line in lines).encode())
        return self.link.take()

    def take(self) -> list[str]:
        return self.link.take()


def make_world(**options: object) -> tuple[Hub, IrcOptions, Callable[..., IrcClient]]:
    """A hub, IRC options, and a factory of registered IRC clients: ``connect("alice", "echo-message")``."""
    hub = Hub()
    irc_options = IrcOptions(server_name="irc.test", network="TestNet", **options)  # type: ignore[arg-type]

    def connect(nick: str, *caps: str, host: str = "192.0.2.1") -> IrcClient:
        client = IrcClient(hub, irc_options, host)
        client.register(nick, *caps)
        return client

    return hub, irc_options, connect
