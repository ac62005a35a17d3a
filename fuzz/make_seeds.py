"""Write the seed corpora of the session targets (``python fuzz/make_seeds.py``): scripts in the encoding
``_world.World.run`` reads, each a short session that reaches some commands."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

FEED, OPEN, EOF, DROP, ANSWER, TICK, TIMERS = 0, 3, 4, 5, 6, 7, 8


def feed(client: int, data: bytes) -> bytes:
    out = b""
    for i in range(0, len(data), 255):
        chunk = data[i : i + 255]
        out += bytes([FEED, client, len(chunk)]) + chunk
    return out


def script(seeded: bool, *steps: bytes) -> bytes:
    return bytes([1 if seeded else 0]) + b"".join(steps)


def irc_lines(*lines: str) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode()


def plain_lines(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


# OPEN's argument picks the kind: World.kinds[arg % 5] (0-2: the primary protocol, 3: the other, 4: sniffed)
# and the host HOSTS[(arg >> 2) % 4].
IRC_SEEDS = {
    "register_chat": script(
        False,
        bytes([OPEN, 0]),
        feed(0, irc_lines("CAP LS 302", "NICK alice", "USER a 0 * :Alice", "CAP END", "JOIN #room")),
        bytes([OPEN, 5]),
        feed(1, irc_lines("NICK bob", "USER b 0 * :Bob", "JOIN #room", "PRIVMSG #room :hi alice")),
        feed(0, irc_lines("PRIVMSG bob :psst", "TOPIC #room :new topic", "PART #room :bye", "QUIT :done")),
    ),
    "operators": script(
        True,
        bytes([OPEN, 8]),
        feed(2, irc_lines("NICK victim", "USER v 0 * :V", "JOIN #room")),
        feed(0, irc_lines("KLINE 10 *@203.0.113.* :spam", "KLINE LIST", "STATS k", "UNKLINE *@203.0.113.*")),
        feed(
            0, irc_lines("KILL victim :bye", "WALLOPS :hello", "REHASH", "STATS u", "KLINE MYSELF 1 *@* :x")
        ),
    ),
    "channel_ops": script(
        True,
        feed(0, irc_lines("MODE #room +b *!*@203.0.113.*", "MODE #room +imntk key", "KICK #room bob :out")),
        feed(
            0,
            irc_lines(
                "MODE #room -b *!*@203.0.113.*", "INVITE bob #room", "MODE #room +o bob", "NAMES #room"
            ),
        ),
        feed(1, b"/join #room\n/who\nhello\n"),
    ),
    "accounts": script(
        True,
        bytes([OPEN, 1]),
        feed(
            2, irc_lines("CAP LS 302", "CAP REQ :sasl", "NICK carol", "USER c 0 * :C", "AUTHENTICATE PLAIN")
        ),
        bytes([ANSWER, 3]),
        feed(2, irc_lines("AUTHENTICATE Y2Fyb2wAY2Fyb2wAcGFzc3dvcmQ=", "CAP END")),
        feed(0, irc_lines("REGISTER * * :password1", "PRIVMSG NickServ :IDENTIFY op password1")),
        bytes([ANSWER, 3]),
        feed(0, irc_lines("CHATHISTORY LATEST #room * 10", "OPER hashed hashedpw")),
        bytes([ANSWER, 3, TICK, 200, TIMERS, 0]),
    ),
    "partial_and_eof": script(
        True,
        bytes([OPEN, 2]),
        feed(2, b"NICK half\r\nUSER h 0 * :H\r\nPRIVMSG #room :no newline"),
        bytes([EOF, 2]),
        feed(1, b"unterminated line"),
        bytes([DROP, 1, TICK, 255, TICK, 255]),
    ),
    "sniffed": script(
        False,
        bytes([OPEN, 4]),
        feed(0, b"NICK sniffy\r\nUSER s 0 * :S\r\n"),
        bytes([OPEN, 4]),
        bytes([TIMERS, 1]),
        feed(1, b"hello from netcat\n/nick nc\n"),
    ),
}

PLAIN_SEEDS = {
    "chat": script(
        False,
        bytes([OPEN, 0]),
        feed(0, plain_lines("/nick alice", "hello", "/me waves", "/join #other", "/rooms", "/who")),
        bytes([OPEN, 1]),
        feed(1, plain_lines("/nick bob", "/msg alice hi", "/join #other", "/part", "/quit bye")),
    ),
    "operators": script(
        True,
        bytes([OPEN, 8]),
        feed(2, plain_lines("/nick pest", "/join #room")),
        feed(0, plain_lines("/kick pest behave", "/ban *!*@203.0.113.*", "/ban", "/unban *!*@203.0.113.*")),
        feed(0, plain_lines("/kline 10 *@203.0.113.* spam", "/kline", "/unkline *@203.0.113.*")),
        feed(0, plain_lines("/kill bob go", "/wallops hi", "/kline 2h pest", "/oper x y")),
    ),
    "accounts": script(
        True,
        feed(0, plain_lines("/register secret1", "/logout", "/login op secret1", "/password secret2")),
        bytes([ANSWER, 3]),
        feed(0, plain_lines("/register #room", "/replay off", "/history 5", "/search hello")),
        bytes([ANSWER, 3, TIMERS, 0]),
    ),
    "long_lines": script(
        True,
        feed(0, b"x" * 400 + b"\n" + b"y" * 100 + b"\r\n\xff\xfe\x1b[31mred\x03" + b"4color\n"),
        bytes([EOF, 0]),
    ),
    "irc_beside": script(
        False,
        bytes([OPEN, 3]),
        feed(0, irc_lines("NICK ircer", "USER i 0 * :I", "JOIN #lobby", "PRIVMSG #lobby :hi plain")),
        bytes([OPEN, 0]),
        feed(1, plain_lines("hi irc", "/msg ircer hey")),
    ),
}


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, key: bytes = b"\x01\x02\x03\x04") -> bytes:
    """A client's frame (masked), as RFC 6455 section 5.2 lays it out."""
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 65536:
        length = bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        length = bytes([0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode]) + length + key + masked


# The first byte: the subprotocol (byte % 3: text, binary, none) and the read size (byte >> 2).
TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0
WS_SEEDS = {
    "register": bytes([0])
    + ws_frame(TEXT, b"NICK web")
    + ws_frame(TEXT, b"USER a 0 * :b\r\n")
    + ws_frame(TEXT, b"JOIN #lobby"),
    "binary_latin1": bytes([1 + 4 * 3]) + ws_frame(BINARY, b"PRIVMSG #lobby :caf\xe9"),
    "fragmented": bytes([2 + 4 * 7])
    + ws_frame(TEXT, b"PRIVMSG #lo", fin=False)
    + ws_frame(PING, b"in between")
    + ws_frame(CONT, b"bby :hi", fin=False)
    + ws_frame(CONT, b" there"),
    "bad_utf8": bytes([0]) + ws_frame(TEXT, b"PRIVMSG x :\xc3\x28") + ws_frame(TEXT, b"PING after"),
    "too_big": bytes([0]) + ws_frame(TEXT, b"x" * 70000),
    "close": bytes([0]) + ws_frame(TEXT, b"QUIT") + ws_frame(CLOSE, b"\x03\xe8bye") + ws_frame(TEXT, b"late"),
    "two_lines": bytes([0]) + ws_frame(TEXT, b"PRIVMSG a :one\r\nPRIVMSG b :two"),
    "unmasked": bytes([0]) + b"\x81\x04PING",
    "pong_and_empty": bytes([4]) + ws_frame(PONG, b"") + ws_frame(TEXT, b"") + ws_frame(TEXT, b"\r\n"),
    "control_too_long": bytes([0]) + ws_frame(PING, b"p" * 200),
}


def main() -> None:
    folder = HERE / "corpus" / "fuzz_websocket"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in WS_SEEDS.items():
        (folder / name).write_bytes(data)
    for target, seeds in (("fuzz_irc_session", IRC_SEEDS), ("fuzz_plain_session", PLAIN_SEEDS)):
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
