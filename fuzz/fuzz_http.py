"""Fuzz target: HTTP on the chat ports (``hubbub.protocols.http`` and the sniffer's request-line test).

The input is a byte stream, its first byte picking how it is split into reads. Whatever the bytes and the
split, the session never raises; it writes whole answers, each an HTTP/1.1 status line and a whole head, at
most one per request it may serve; every answer but the last keeps the connection (a success, without
``Connection: close``), and the connection is closed in the end; the same bytes fed whole or split get the
same answers; and when the first line is
an HTTP request line the sniffer gives the connection to HTTP, so no chat session ever sees a byte of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from _fuzzutil import NoTimer, Recorder, fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from hubbub.protocols.http import MAX_REQUESTS, HttpSession, chat_port, is_request_line
    from hubbub.protocols.sniff import SniffSession

STATUS_LINE = re.compile(rb"^HTTP/1\.1 [1-5][0-9][0-9] [^\r\n]*\r\n")


class Link:
    secure = False
    trusted_proxy = False
    peer_host = "192.0.2.1"

    def __init__(self) -> None:
        self.out: list[Any] = []
        self.sent: list[bytes] = []
        self.closed: str | None = None
        self.session: Any = None

    def send(self, data: bytes) -> None:
        assert self.closed is None, "output after close"
        self.sent.append(data)

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason

    def call_later(self, delay: float, callback: Callable[[], None]) -> NoTimer:
        return NoTimer()

    def switch(self, session: Any) -> None:
        self.session = session

    def set_client_address(self, host: str, how: str) -> bool:
        self.peer_host = host
        return True


def serve(stream: bytes, step: int) -> Link:
    link = Link()
    session = HttpSession(link, chat_port)
    for i in range(0, len(stream), step):
        session.data_received(stream[i : i + step])
    session.eof_received()
    return link


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    step = 1 + data[0] % 97
    stream = data[1:]
    whole, split = serve(stream, max(1, len(stream))), serve(stream, step)
    for link in (whole, split):
        assert len(link.sent) <= MAX_REQUESTS + 1, len(link.sent)
        assert link.closed is not None
        for i, answer in enumerate(link.sent):
            assert STATUS_LINE.match(answer), answer[:100]
            head = answer.partition(b"\r\n\r\n")[0]
            assert head != answer
            if i < len(link.sent) - 1:  # kept alive for the next request: a success, not told to close
                assert b"\r\nConnection: close" not in head and answer[9:10] in b"123", answer[:100]
    assert whole.sent == split.sent, (whole.sent, split.sent)
    # The sniffer: an HTTP request line never reaches chat.
    link = Link()
    sniff = SniffSession(link, Recorder, Recorder, 0.25, http=lambda lk: HttpSession(lk, chat_port))
    sniff.data_received(stream)
    end = stream.find(b"\n")
    if end >= 0 and is_request_line(stream[:end]):
        assert isinstance(link.session, HttpSession)


if __name__ == "__main__":
    fuzz(TestOneInput)
