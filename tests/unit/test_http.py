"""HTTP on the chat ports, in memory: the request line is recognised, and a request is answered as HTTP
(h11 parses it) whatever way its bytes arrive, without ever reaching a chat session."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.protocols.base import Link, Session
from hubbub.protocols.http import MAX_HEAD, HttpSession, chat_port, is_request_line, refuse
from hubbub.protocols.sniff import SniffSession

from .irc_harness import MemoryLink
from .test_sniff import Recorder

ATTACK = (
    b"POST / HTTP/1.1\r\nHost: evil.example\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\n"
    b"/nick pwned\r\n/quit now\r\n"
)


@pytest.mark.parametrize(
    "line",
    [
        b"GET / HTTP/1.1",
        b"POST / HTTP/1.1\r",
        b"OPTIONS * HTTP/1.0",
        b"GET /socket HTTP/1.1",
        b"PRI * HTTP/2.0",
    ],
)
def test_request_lines_are_recognised(line: bytes) -> None:
    assert is_request_line(line)


@pytest.mark.parametrize(
    "line",
    [
        b"hello everyone",
        b"GET me a coffee",
        b"/nick bob",
        b"NICK alice",
        b"get / http/1.1",
        b"GET  / HTTP/1.1",
    ],
)
def test_chat_lines_are_not_request_lines(line: bytes) -> None:
    assert not is_request_line(line)


def sniff_http(data: bytes) -> MemoryLink:
    link = MemoryLink()

    def chat(link: Link) -> Session:
        return Recorder("chat", link)

    def web(link: Link) -> Session:
        return HttpSession(link, chat_port)

    sniff = SniffSession(link, chat, chat, 0.25, http=web)
    sniff.data_received(data)
    return link


def answer(link: MemoryLink) -> bytes:
    return link.data


def test_the_sniffer_hands_an_http_request_to_http_and_nothing_to_chat() -> None:
    link = sniff_http(ATTACK)
    assert isinstance(link.session, HttpSession)
    assert answer(link).startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert link.closed is not None


def test_without_an_http_factory_the_sniffer_leaves_http_alone() -> None:
    link = MemoryLink()
    sniff = SniffSession(link, lambda lk: Recorder("plain", lk), lambda lk: Recorder("irc", lk), 0.25)
    sniff.data_received(b"GET / HTTP/1.1\r\n")
    assert isinstance(link.session, Recorder) and link.session.name == "plain"


@given(st.lists(st.integers(min_value=1, max_value=len(ATTACK) - 1), max_size=8))
def test_any_split_of_a_request_gets_the_same_answer(cuts: list[int]) -> None:
    link = MemoryLink()
    session = HttpSession(link, chat_port)
    previous = 0
    for cut in [*sorted(set(cuts)), len(ATTACK)]:
        session.data_received(ATTACK[previous:cut])
        previous = cut
    assert answer(link).startswith(b"HTTP/1.1 405 ")
    assert link.closed is not None


def test_the_irc_port_refuses_every_request() -> None:
    link = MemoryLink()
    HttpSession(link, refuse).data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer(link).startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_head_gets_headers_only_and_unknown_paths_404() -> None:
    link = MemoryLink()
    HttpSession(link, chat_port).data_received(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer(link).startswith(b"HTTP/1.1 200 OK\r\n") and answer(link).endswith(b"\r\n\r\n")
    link = MemoryLink()
    HttpSession(link, chat_port).data_received(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer(link).startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_a_head_past_the_bound_is_refused_whether_whole_or_in_pieces() -> None:
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * MAX_HEAD + b"\r\n\r\n"
    for pieces in ([big], [big[:100], big[100:]], [big[: MAX_HEAD + 10]]):
        link = MemoryLink()
        session = HttpSession(link, chat_port)
        for piece in pieces:
            session.data_received(piece)
        assert answer(link).startswith(b"HTTP/1.1 431 "), pieces[0][:20]
        assert link.closed is not None


def test_garbage_after_a_request_line_is_a_400_and_an_unfinished_request_just_closes() -> None:
    link = MemoryLink()
    HttpSession(link, chat_port).data_received(b"GET / HTTP/1.1\r\nno colon\r\n\r\n")
    assert answer(link).startswith(b"HTTP/1.1 400 ")
    link = MemoryLink()
    session = HttpSession(link, chat_port)
    session.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
    session.eof_received()
    assert link.closed is not None


def test_an_http2_preface_is_answered_as_http_too() -> None:
    link = MemoryLink()
    HttpSession(link, chat_port).data_received(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert answer(link).startswith(b"HTTP/1.1 4")
    assert link.closed is not None
