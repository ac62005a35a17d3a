"""The server's side of the telnet protocol, as much of it as a line-by-line chat needs (RFC 854, RFC 860).

A telnet client mixes commands into the byte stream: ``IAC`` (0xFF) and a command byte, three bytes for an
option negotiation (``IAC DO|DONT|WILL|WONT option``), and ``IAC SB ... IAC SE`` for a subnegotiation. A
:class:`Telnet` reads them out of the stream, whatever the packet boundaries, and says what to answer:

- every option asked for is refused (``DO x`` gets ``WONT x``, ``WILL x`` gets ``DONT x``; ``DONT`` and
  ``WONT`` need no answer: every option is off already, so the negotiation can never loop, RFC 1143);
- except ``DO TIMING-MARK``, answered ``WILL TIMING-MARK`` (RFC 860): after Ctrl-C, telnet sends
  ``IAC IP IAC DO TIMING-MARK`` and throws away everything the server writes until that answer comes;
- Interrupt Process and Break (what Ctrl-C and the break key send) are counted as interrupts, for the session
  to offer the way out; Are You There gets an answer the person sees;
- Erase Character and Erase Line become the bytes a terminal sends for them (BS and Ctrl-U), which the line
  cleaning applies (:func:`hubbub.wire.text.clean_line`). ``IAC IAC`` (a literal 0xFF byte, never UTF-8) and
  every other command are dropped.
"""

from __future__ import annotations

__all__ = ["IAC", "Telnet"]

IAC = 0xFF
DONT, DO, WONT, WILL, SB = 0xFE, 0xFD, 0xFC, 0xFB, 0xFA
GA, EL, EC, AYT, AO, IP, BRK, DM, NOP, SE = 0xF9, 0xF8, 0xF7, 0xF6, 0xF5, 0xF4, 0xF3, 0xF2, 0xF1, 0xF0
TIMING_MARK = 0x06

_IAC_BYTE = bytes((IAC,))
_SB_END = bytes((IAC, SE))


class Telnet:
    """Telnet commands read out of a client's byte stream (see the module's text)."""

    __slots__ = ("in_sb", "interrupts", "pending", "present", "replies")

    def __init__(self) -> None:
        #: The start of a command cut by the end of the last read.
        self.pending = b""
        #: Inside a subnegotiation (its bytes are dropped up to IAC SE).
        self.in_sb = False
        #: What to send back, and what happened, since the caller last took them (see feed).
        self.replies = bytearray()
        self.interrupts = 0
        self.present = 0

    def feed(self, data: bytes) -> bytes:
        """The text in ``data`` with the telnet commands taken out. The answers to send pile up in
        ``replies``, the interrupts (IP, BRK) in ``interrupts`` and the Are-You-There in ``present``."""
        if self.pending:
            data, self.pending = self.pending + data, b""
        elif not self.in_sb and IAC not in data:
            return data
        out = bytearray()
        i, n = 0, len(data)
        while i < n:
            if self.in_sb:
                end = data.find(_SB_END, i)
                if end < 0:
                    # Dropped as it comes; a trailing IAC is kept: it may begin the next read's IAC SE.
                    self.pending = _IAC_BYTE if data[-1] == IAC else b""
                    return bytes(out)
                self.in_sb = False
                i = end + 2
                continue
            j = data.find(IAC, i)
            if j < 0:
                out += data[i:]
                break
            out += data[i:j]
            if j + 1 >= n:
                self.pending = data[j:]
                break
            command = data[j + 1]
            if command in (DO, DONT, WILL, WONT):
                if j + 2 >= n:
                    self.pending = data[j:]
                    break
                self._negotiate(command, data[j + 2])
                i = j + 3
                continue
            i = j + 2
            if command == SB:
                self.in_sb = True
            elif command in (IP, BRK):
                self.interrupts += 1
            elif command == AYT:
                self.present += 1
            elif command == EC:
                out += b"\x08"
            elif command == EL:
                out += b"\x15"
            # IAC IAC (a literal 0xFF, never text), AO, DM, NOP, GA, SE: nothing to do
        return bytes(out)

    def _negotiate(self, command: int, option: int) -> None:
        if command == DO:
            self.replies += bytes((IAC, WILL if option == TIMING_MARK else WONT, option))
        elif command == WILL:
            self.replies += bytes((IAC, DONT, option))
