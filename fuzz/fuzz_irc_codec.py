"""Fuzz target: the IRC message codec (``hubbub.wire.irc``).

Two directions. From bytes: ``parse`` either raises one of the codec's own errors (``ParseError``,
``InputTooLong``) or gives a message that formats back to a line parsing to the same message, with the same
result for the line given as text. From parts: ``format`` either refuses (``ValueError``) or writes a line
that parses back to the very message it was given, and the server's own writer (``line`` and ``params``, as
numerics and renderers use them, with and without the forced trailing ``:``) writes the same parameters the
same way. Any other exception, or a broken round trip, is a crash.
"""

from __future__ import annotations

import sys

from _fuzzutil import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from hubbub.wire.irc import InputTooLong, Message, ParseError, format, line, parse
    from hubbub.wire.irc import params as params_text

BIG = 1 << 20


def _round_trip(msg: Message) -> None:
    wire = msg.to_bytes()
    assert wire.endswith(b"\r\n") and b"\n" not in wire[:-2] and b"\r" not in wire[:-2], wire
    again = parse(wire[:-2], max_body=BIG, max_tags=BIG)
    assert again == msg, (msg, again, wire)
    assert again.to_bytes() == wire, (wire, again.to_bytes())


def from_bytes(raw: bytes, max_body: int, max_tags: int) -> None:
    try:
        msg = parse(raw, max_body=max_body, max_tags=max_tags)
    except (ParseError, InputTooLong):
        return
    assert msg.verb and msg.verb[0] not in ":@" and " " not in msg.verb, msg
    assert msg.source is None or (msg.source and " " not in msg.source), msg
    assert all(p and " " not in p and p[0] != ":" for p in msg.params[:-1]), msg
    _round_trip(msg)
    # The same line as text parses to the same message (the limits counted in UTF-8 bytes).
    assert parse(raw.decode("utf-8", "replace"), max_body=BIG, max_tags=BIG) == msg


def from_parts(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    pieces = text.split("\x00", 8)
    verb = pieces[0]
    source = pieces[1] if len(pieces) > 1 and pieces[1] != "-" else None
    tags: dict[str, str] = {}
    if len(pieces) > 2 and pieces[2]:
        for item in pieces[2].split("\x01"):
            key, _, value = item.partition("\x02")
            tags[key] = value
    params = pieces[3:]
    try:
        wire = format(verb, params, source, tags)
    except ValueError:
        return
    msg = parse(wire[:-2], max_body=BIG, max_tags=BIG)
    assert msg == Message(verb, params, source, tags), (msg, verb, params, source, tags)
    # The server's writer: what format() accepts, it writes identically (without tags) or with a forced ':'.
    head = verb if source is None else f":{source} {verb}"
    for colon in (False, True):
        raw = line(f"{head} {params_text(params, colon)}" if params else head)
        assert parse(raw[:-2], max_body=BIG, max_tags=BIG) == Message(verb, params, source), (raw, params)
        if not colon:
            assert raw == format(verb, params, source), (raw, params)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    mode = data[0]
    rest = data[1:]
    if mode & 1:
        from_parts(rest)
    else:
        max_body = 3 + (mode >> 1) * 8  # 3 to 1019
        from_bytes(rest, max_body, 2 + (mode >> 1) * 64)
        from_bytes(rest, BIG, BIG)


if __name__ == "__main__":
    fuzz(TestOneInput)
    sys.exit(0)
