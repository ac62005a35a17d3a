"""A sans-I/O codec for IRC messages: one line in, one :class:`Message` out, and back.

The grammar follows https://modern.ircdocs.horse/ with IRCv3 message tags::

    [@tags SPACE] [:source SPACE] verb *(SPACE middle) [SPACE :trailing]

Atoms are separated by one or more spaces (only 0x20; a tab is an ordinary character). A tag without a value
and a tag with an empty value both parse to ``""``; when a key repeats, the last value wins. Tag values are
unescaped (``\\:`` -> ``;``, ``\\s`` -> space, ``\\\\`` -> ``\\``, ``\\r``, ``\\n``; a backslash before any
other character is dropped, and so is a lone backslash at the end of a value).

Limits. Both are counted in bytes of the raw line, after a stray trailing CR/LF has been removed:

* The tag section -- from the ``@`` through the space that ends it -- may be at most ``max_tags`` bytes
  (default 8191, the IRCv3 maximum including the ``@`` and the space). Clients may send at most 4094 bytes of
  tag data, 4096 with the ``@`` and the space: a server that wants to enforce that passes ``max_tags=4096``.
* Everything after the tag section (source, verb and parameters) may be at most ``max_body - 2`` bytes: the
  classic limit is 512 bytes *including* the CR LF, so 510 bytes of content.

A line over either limit raises :class:`InputTooLong` (the server answers ``417 ERR_INPUTTOOLONG``); the
limits are checked before anything else, so an over-long line always raises it. A line that is empty, has no
verb (``:src :text``), a verb starting with ``@``, an empty source (``: VERB``), or NUL, CR or LF inside it
raises :class:`ParseError`. Both are :class:`ValueError`. Bytes are decoded as UTF-8 with invalid sequences
replaced by U+FFFD. The number of parameters is not limited (no 15-parameter rule).

Serialising (:meth:`Message.to_bytes`, :func:`format`) is the exact inverse for every message :func:`parse`
can return: ``parse(msg.to_bytes()[:-2]) == msg`` (given large enough limits). It refuses (``ValueError``)
what cannot be written unambiguously: an empty verb or one that starts with ``:`` or ``@`` or contains a
space, an empty source or one with a space, a middle parameter (any but the last) that is empty, contains a
space or starts with ``:``, a tag key that is empty or contains
``=``, ``;`` or a space, and NUL, CR or LF anywhere outside a tag value (in tag values CR and LF are escaped,
NUL has no escape). The last parameter is written with a ``:`` only when it needs one (it is empty, contains a
space or starts with ``:``). Output length is not limited here; the caller decides how to split or truncate.

The server writes every IRC line through :func:`line`, with the trailing-parameter rule of :func:`params`
(which :func:`format` uses too): renderers and replies lay their lines out with f-strings, which keeps the
fan-out path to one call per rendered line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "InputTooLong",
    "Message",
    "ParseError",
    "escape_tag_value",
    "format",
    "line",
    "params",
    "parse",
    "unescape_tag_value",
]

MAX_BODY = 512
"""Default limit for source, verb and parameters, in bytes, including the CR LF that ends the line."""

MAX_TAGS = 8191
"""Default limit for the tag section, in bytes, including the leading ``@`` and the space after it."""


class ParseError(ValueError):
    """The line is not an IRC message (empty, no verb, empty source, or NUL/CR/LF inside it)."""


class InputTooLong(ValueError):
    """The line's tag section or body is over its limit; a server answers 417 ERR_INPUTTOOLONG.

    ``section`` is ``"tags"`` or ``"body"``, ``limit`` the limit that was exceeded (as passed to
    :func:`parse`) and ``length`` the offending section's size in bytes (for the body, without CR LF).
    """

    def __init__(self, section: str, length: int, limit: int) -> None:
        super().__init__(f"{section} too long: {length} bytes (limit {limit})")
        self.section = section
        self.length = length
        self.limit = limit


class Message:
    """One IRC message.

    ``tags`` maps tag keys to unescaped values (``""`` for a tag without value) or is ``None`` when there
    are none (an empty mapping is stored as ``None``); ``source`` is the prefix without its ``:``; ``params``
    holds all parameters, the trailing one included, without its ``:``.
    """

    __slots__ = ("tags", "source", "verb", "params")  # noqa: RUF023 - field order as documented

    tags: dict[str, str] | None
    source: str | None
    verb: str
    params: list[str]

    def __init__(
        self,
        verb: str,
        params: Iterable[str] = (),
        source: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.verb = verb
        self.params = list(params)
        self.source = source
        self.tags = dict(tags) if tags else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (
            self.verb == other.verb
            and self.params == other.params
            and self.source == other.source
            and (self.tags or None) == (other.tags or None)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        out = f"Message({self.verb!r}, {self.params!r}"
        if self.source is not None:
            out += f", source={self.source!r}"
        if self.tags:
            out += f", tags={self.tags!r}"
        return out + ")"

    def to_bytes(self) -> bytes:
        """The message as one line of UTF-8, ending in CR LF; see :func:`format`."""
        return format(self.verb, self.params, self.source, self.tags)


_new_message = object.__new__

# ----------------------------------------------------------------------------------------------------
# Tag values


_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag-value escaping.

    ``\\x`` for any other ``x`` gives ``x``; a lone backslash at the end is dropped.
    """
    i = value.find("\\")
    if i == -1:
        return value
    out: list[str] = []
    start = 0
    end = len(value) - 1
    unescapes = _UNESCAPES
    while i != -1:
        out.append(value[start:i])
        if i == end:
            return "".join(out)
        c = value[i + 1]
        out.append(unescapes.get(c, c))
        start = i + 2
        i = value.find("\\", start)
    out.append(value[start:])
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """Escape ``\\``, ``;``, space, CR and LF for use as an IRCv3 tag value (inverse of the unescaping)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if ";" in value:
        value = value.replace(";", "\\:")
    if " " in value:
        value = value.replace(" ", "\\s")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    return value


def _parse_tags(raw: str) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        eq = item.find("=")
        if eq == -1:
            if item:
                tags[item] = ""
        elif eq:
            value = item[eq + 1 :]
            tags[item[:eq]] = unescape_tag_value(value) if "\\" in value else value
    return tags or None


# ----------------------------------------------------------------------------------------------------
# Parsing


def _utf8_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def parse(line: bytes | str, *, max_body: int = MAX_BODY, max_tags: int = MAX_TAGS) -> Message:
    """Parse one line (without its CR LF; a stray trailing CR/LF is removed) into a :class:`Message`.

    Raises :class:`InputTooLong` when the tag section is over ``max_tags`` bytes or the rest of the line is
    over ``max_body - 2`` bytes, and :class:`ParseError` when the line is not a message.
    """
    # Limits are checked on the raw line (bytes as received) before decoding.
    if isinstance(line, str):
        s = line
        if s and s[-1] in "\r\n":
            s = s.rstrip("\r\n")
        if not s:
            raise ParseError("empty line")
        if s[0] == "@":
            sp = s.find(" ")
            tag_end = len(s) if sp == -1 else sp + 1
            if s.isascii():
                tag_len = tag_end
                body_len = len(s) - tag_end
            else:
                tag_len = _utf8_len(s[:tag_end])
                body_len = _utf8_len(s[tag_end:])
            if tag_len > max_tags:
                raise InputTooLong("tags", tag_len, max_tags)
        else:
            body_len = _utf8_len(s)
        if body_len > max_body - 2:
            raise InputTooLong("body", body_len, max_body)
    else:
        b = line
        if b[-1:] in (b"\n", b"\r"):
            b = b.rstrip(b"\r\n")
        if not b:
            raise ParseError("empty line")
        if b[0] == 0x40:  # '@'
            sp = b.find(b" ")
            tag_len = len(b) if sp == -1 else sp + 1
            if tag_len > max_tags:
                raise InputTooLong("tags", tag_len, max_tags)
            body_len = len(b) - tag_len
        else:
            body_len = len(b)
        if body_len > max_body - 2:
            raise InputTooLong("body", body_len, max_body)
        # NUL, CR and LF survive decoding as themselves (and nothing else decodes to them): check below.
        s = b.decode("utf-8", "replace")

    if "\n" in s or "\r" in s or "\0" in s:
        raise ParseError("NUL, CR or LF inside the line")
    c = s[0]
    if c not in {"@", ":", " "}:
        # Fast path: no tags, no source, no leading space; s[0] is the verb's first character.
        i = s.find(" :")
        if i == -1:
            params = s.split(" ")
            if "" in params:
                params = [p for p in params if p]
        else:
            params = s[:i].split(" ")
            if "" in params:
                params = [p for p in params if p]
            params.append(s[i + 2 :])
        msg = _new_message(Message)
        msg.tags = None
        msg.source = None
        msg.verb = params.pop(0)
        msg.params = params
        return msg

    tags = None
    source = None
    if c == "@":
        sp = s.find(" ")
        if sp == -1:
            raise ParseError("missing verb")
        tags = _parse_tags(s[1:sp])
        s = s[sp + 1 :]
    if s[:1] == " ":
        s = s.lstrip(" ")
    if s[:1] == ":":
        sp = s.find(" ")
        if sp == -1:
            raise ParseError("missing verb")
        if sp == 1:
            raise ParseError("empty source")
        source = s[1:sp]
        s = s[sp + 1 :]
        if s[:1] == " ":
            s = s.lstrip(" ")
    if not s:
        raise ParseError("missing verb")
    # s starts with the verb's first character (not a space).
    i = s.find(" :")
    if i == -1:
        params = s.split(" ")
        if "" in params:
            params = [p for p in params if p]
    else:
        params = s[:i].split(" ")
        if "" in params:
            params = [p for p in params if p]
        params.append(s[i + 2 :])
    verb = params.pop(0)
    if verb[0] == ":":
        raise ParseError("missing verb")
    if verb[0] == "@":
        raise ParseError("invalid verb")
    msg = _new_message(Message)
    msg.tags = tags
    msg.source = source
    msg.verb = verb
    msg.params = params
    return msg


# ----------------------------------------------------------------------------------------------------
# Writing: the one IRC line writer. Every IRC line the server sends is laid out with :func:`params` (the
# trailing-parameter rule) and ends in :func:`line` (CR LF and UTF-8); :func:`format` is the checked writer
# built on them, for messages whose parts are not known to be well formed.


def line(text: str) -> bytes:
    """One line of wire text, laid out (``:source VERB params``), as bytes: CR LF appended, UTF-8, and a lone
    surrogate (which :func:`parse` never returns) written as ``?`` rather than failing while relaying."""
    return (text + "\r\n").encode("utf-8", "replace")


def params(items: Sequence[str], colon: bool = False) -> str:
    """Parameters as they go on the wire, separated by spaces, the last one after ``:`` when it must be (it is
    empty, contains a space or starts with ``:``) or when ``colon`` is true.

    Servers conventionally write text that way whatever it holds: hubbub passes ``colon=True`` for a numeric
    with more than one parameter (its last is the human-readable text), and renderers write a message's,
    reason's or topic's text as ``" :" + text``, which is this rule with ``colon=True`` written inline on the
    fan-out path. The middle parameters are not checked here (:func:`format` checks them).
    """
    if not items:
        return ""
    last = items[-1]
    if colon or not last or " " in last or last[0] == ":":
        if len(items) == 1:
            return ":" + last
        return " ".join(items[:-1]) + " :" + last
    return " ".join(items)


def format(
    verb: str,
    params: Sequence[str] = (),
    source: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> bytes:
    """Serialise a message as ``@tags :source VERB p1 p2 :last`` + CR LF, encoded as UTF-8, the last parameter
    after ``:`` only when it needs one (see :func:`params`).

    Raises :class:`ValueError` for a message that cannot be written unambiguously (see the module docstring).
    """
    parts: list[str] = []
    if tags:
        items: list[str] = []
        for key, value in tags.items():
            if not key or "=" in key or ";" in key or " " in key:
                raise ValueError(f"invalid tag key {key!r}")
            items.append(key + "=" + escape_tag_value(value) if value else key)
        parts.append("@" + ";".join(items))
    if source is not None:
        if not source or " " in source:
            raise ValueError(f"invalid source {source!r}")
        parts.append(":" + source)
    if not verb or " " in verb or verb[0] == ":" or verb[0] == "@":
        raise ValueError(f"invalid verb {verb!r}")
    parts.append(verb)
    if params:
        if isinstance(params, str):
            raise TypeError("params must be a sequence of strings, not a string")
        for param in params[:-1]:
            if not param or " " in param or param[0] == ":":
                raise ValueError(f"invalid middle parameter {param!r}")
        parts.append(_params(params))
    text = " ".join(parts)
    if "\n" in text or "\r" in text or "\0" in text:
        raise ValueError("NUL, CR or LF in message")
    return line(text)


_params = params  # format()'s argument shadows the function's name
