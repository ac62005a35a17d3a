"""The telnet protocol as the plain-text port speaks it: commands taken out of the stream wherever the reads
cut them, every option refused but TIMING-MARK (Ctrl-C in telnet waits for it), interrupts counted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hubbub.wire.telnet import Telnet

IAC, DO, DONT, WILL, WONT, SB, SE, IP, BRK, AYT, EC, EL = (
    255,
    253,
    254,
    251,
    252,
    250,
    240,
    244,
    243,
    246,
    247,
    248,
)
TM, ECHO, NAWS = 6, 1, 31


def test_ctrl_c_gets_its_timing_mark_answered_and_counted() -> None:
    telnet = Telnet()
    assert telnet.feed(bytes((IAC, IP, IAC, DO, TM))) == b""
    assert bytes(telnet.replies) == bytes((IAC, WILL, TM))
    assert telnet.interrupts == 1


def test_options_are_refused_and_refusals_need_no_answer() -> None:
    telnet = Telnet()
    text = telnet.feed(bytes((IAC, DO, ECHO, IAC, WILL, NAWS, IAC, DONT, ECHO, IAC, WONT, NAWS)) + b"hi\r\n")
    assert text == b"hi\r\n"
    assert bytes(telnet.replies) == bytes((IAC, WONT, ECHO, IAC, DONT, NAWS))


def test_subnegotiation_literal_ff_and_other_commands_are_dropped() -> None:
    telnet = Telnet()
    assert (
        telnet.feed(b"a" + bytes((IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE)) + b"b" + bytes((IAC, IAC)) + b"c")
        == b"abc"
    )
    assert telnet.feed(bytes((IAC, 241)) + b"d") == b"d"  # NOP
    assert not telnet.replies and not telnet.interrupts


def test_erase_character_and_line_become_the_keys_a_terminal_sends() -> None:
    telnet = Telnet()
    assert telnet.feed(b"ab" + bytes((IAC, EC)) + b"c" + bytes((IAC, EL))) == b"ab\x08c\x15"


def test_are_you_there_and_break() -> None:
    telnet = Telnet()
    telnet.feed(bytes((IAC, AYT, IAC, BRK)))
    assert telnet.present == 1 and telnet.interrupts == 1


def test_plain_bytes_pass_untouched() -> None:
    telnet = Telnet()
    data = b"hello world\r\n"
    assert telnet.feed(data) is data


_STREAM = st.lists(
    st.one_of(
        st.binary(max_size=8).map(lambda b: b.replace(b"\xff", b"")),
        st.sampled_from(
            [
                bytes((IAC, IP, IAC, DO, TM)),
                bytes((IAC, WILL, NAWS)),
                bytes((IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE)),
                bytes((IAC, IAC)),
                bytes((IAC, AYT)),
                bytes((IAC, EC)),
            ]
        ),
    ),
    max_size=20,
)


@given(_STREAM, st.lists(st.integers(0, 200), max_size=10))
def test_any_cut_of_the_stream_reads_the_same(parts: list[bytes], cuts: list[int]) -> None:
    """However the reads cut the stream, the text, the answers and the counts are those of one read, and no
    telnet byte (0xFF) is left in the text."""
    stream = b"".join(parts)
    whole = Telnet()
    expected = whole.feed(stream)
    pieces = Telnet()
    got = b""
    at = 0
    for cut in sorted({min(c, len(stream)) for c in cuts}):
        got += pieces.feed(stream[at:cut])
        at = cut
    got += pieces.feed(stream[at:])
    assert got == expected and b"\xff" not in got
    assert pieces.replies == whole.replies
    assert (pieces.interrupts, pieces.present) == (whole.interrupts, whole.present)


@given(st.binary(max_size=300))
def test_anything_at_all_leaves_no_telnet_byte_in_the_text(data: bytes) -> None:
    telnet = Telnet()
    text = telnet.feed(data[:150]) + telnet.feed(data[150:])
    assert b"\xff" not in text
    assert len(telnet.replies) % 3 == 0
