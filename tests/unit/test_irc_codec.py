"""Tests for hubbub.wire.irc: the ircdocs parser-tests conformance vectors, limits, and properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubbub.wire.irc import (
    InputTooLong,
    Message,
    ParseError,
    escape_tag_value,
    format,
    params,
    parse,
    unescape_tag_value,
)
from hubbub.wire.irc import line as write_line

from .parser_vectors import Missing, load_vectors, vector, vectors_dir

# --------------------------------------------------------------------------------------------------------
# Conformance vectors (github.com/ircdocs/parser-tests), kept outside the repo in the sibling shared/ folder.


def expected_message(atoms: dict[str, Any]) -> Message:
    return Message(atoms["verb"], atoms.get("params") or [], atoms.get("source"), atoms.get("tags"))


@pytest.mark.parametrize("case", load_vectors("msg-split.yaml", "input"))
def test_msg_split(case: dict[str, Any] | Missing) -> None:
    test = vector(case)
    atoms = test["atoms"]
    expected = (atoms.get("tags"), atoms.get("source"), atoms["verb"], atoms.get("params") or [])
    for line in (test["input"], test["input"].encode("utf-8")):
        msg = parse(line)
        assert (msg.tags, msg.source, msg.verb, msg.params) == expected
        # Everything parse() accepts can be written back and reads the same.
        assert parse(msg.to_bytes()[:-2]) == msg


@pytest.mark.parametrize("case", load_vectors("msg-join.yaml", "desc"))
def test_msg_join(case: dict[str, Any] | Missing) -> None:
    test = vector(case)
    atoms = test["atoms"]
    raw = format(atoms["verb"], atoms.get("params") or [], atoms.get("source"), atoms.get("tags"))
    assert raw.endswith(b"\r\n")
    assert expected_message(atoms).to_bytes() == raw
    # The listed matches differ only in allowed ways (tag order, ':' on a last param that needs none,
    # "key=" for an empty tag value): our output must be one of them, and all of them read back the same.
    assert raw[:-2].decode("utf-8") in test["matches"]
    for match in test["matches"]:
        assert parse(match) == parse(raw[:-2]) == expected_message(atoms)


def test_vectors_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUBBUB_IRC_PARSER_TESTS", str(tmp_path))
    assert vectors_dir() == tmp_path
    [param] = load_vectors("msg-split.yaml", "input")
    assert isinstance(param.values[0], Missing)


# --------------------------------------------------------------------------------------------------------
# Parsing details beyond the vectors


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PING x\r\n", Message("PING", ["x"])),
        ("PING x\n", Message("PING", ["x"])),
        ("PING x\r", Message("PING", ["x"])),
        ("  PING   x  ", Message("PING", ["x"])),
        ("@a=1  :src   PING  x", Message("PING", ["x"], "src", {"a": "1"})),
        ("@;a=1;;b; PING", Message("PING", [], None, {"a": "1", "b": ""})),
        ("@=x;a PING", Message("PING", [], None, {"a": ""})),
        ("@ PING", Message("PING")),
        ("@; PING", Message("PING")),
        ("@a=b=c PING", Message("PING", [], None, {"a": "b=c"})),
        (":src PING :", Message("PING", [""], "src")),
        ("PING ::", Message("PING", [":"])),
        ("PING a:b :c:d", Message("PING", ["a:b", "c:d"])),
        ("PING\tx", Message("PING\tx")),
        ("cap ls 302", Message("cap", ["ls", "302"])),
    ],
)
def test_parse_details(line: str, expected: Message) -> None:
    assert parse(line) == expected
    assert parse(line.encode()) == expected


def test_parse_tags_none_when_absent() -> None:
    msg = parse("PRIVMSG #a :hi")
    assert msg.tags is None
    assert msg.source is None
    assert parse("@ PING").tags is None


def test_invalid_utf8_is_replaced() -> None:
    assert parse(b"PRIVMSG #a :caf\xc3\xa9 \xff\xfe").params == ["#a", "caf\u00e9 \ufffd\ufffd"]
    assert parse(b"@k=\xff :n\xff PING").tags == {"k": "\ufffd"}


@pytest.mark.parametrize(
    "line",
    [
        "",
        "\r\n",
        "\n",
        "   ",
        "@a=b",
        "@a=b ",
        "@a=b    ",
        ":src",
        ":src ",
        ":src   ",
        ": PING",
        ":src :trailing",
        ":src :",
        "@a :src :x y",
        "@a @b",
        "@a :src @b",
        " :src",
        "PI\0NG",
        "PING a\rb",
        "PING a\nb",
        "PING :a\0b",
        "@a=\0 PING",
    ],
)
def test_parse_errors(line: str) -> None:
    with pytest.raises(ParseError):
        parse(line)
    with pytest.raises(ParseError):
        parse(line.encode())


def test_error_types() -> None:
    assert issubclass(ParseError, ValueError)
    assert issubclass(InputTooLong, ValueError)
    assert not issubclass(ParseError, InputTooLong)
    assert not issubclass(InputTooLong, ParseError)


# --------------------------------------------------------------------------------------------------------
# Limits: 510 bytes of body (512 with CR LF), 8191 bytes of tag section (with '@' and the space)


def body_of(n: int, fill: str = "x") -> str:
    """A PRIVMSG of exactly ``n`` UTF-8 bytes, padded with ``fill`` (1 or 2 bytes a character)."""
    head = "PRIVMSG #room :"
    size = len(fill.encode())
    rest = n - len(head)
    text = fill * (rest // size) + "x" * (rest % size)
    line = head + text
    assert len(line.encode()) == n
    return line


def tags_of(n: int, fill: str = "v") -> str:
    """A tag section of exactly ``n`` bytes, including the '@' and the trailing space."""
    head = "@k="
    size = len(fill.encode())
    rest = n - len(head) - 1
    section = head + fill * (rest // size) + "v" * (rest % size) + " "
    assert len(section.encode()) == n
    return section


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize("fill", ["x", "\u00e9"], ids=["ascii", "2-byte"])
def test_body_limit(as_bytes: bool, fill: str) -> None:
    def run(line: str) -> Message:
        return parse(line.encode() if as_bytes else line)

    assert run(body_of(510, fill)).verb == "PRIVMSG"
    assert run(body_of(510, fill) + "\r\n").verb == "PRIVMSG"  # the line ending does not count
    with pytest.raises(InputTooLong) as info:
        run(body_of(511, fill))
    assert (info.value.section, info.value.length, info.value.limit) == ("body", 511, 512)
    with pytest.raises(InputTooLong):
        run(body_of(511, fill) + "\r\n")


def test_body_limit_counts_raw_bytes_before_decoding() -> None:
    line = body_of(500).encode() + b"\xff" * 10
    assert len(line) == 510
    assert parse(line).params[-1].endswith("\ufffd" * 10)
    with pytest.raises(InputTooLong):
        parse(line + b"\xff")


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
@pytest.mark.parametrize("fill", ["v", "\u00e9"], ids=["ascii", "2-byte"])
def test_tags_limit(as_bytes: bool, fill: str) -> None:
    def run(line: str) -> Message:
        return parse(line.encode() if as_bytes else line)

    msg = run(tags_of(8191, fill) + "PING")
    assert msg.tags is not None
    assert len(msg.tags["k"].encode()) == 8191 - len("@k= ")
    with pytest.raises(InputTooLong) as info:
        run(tags_of(8192, fill) + "PING")
    assert (info.value.section, info.value.length, info.value.limit) == ("tags", 8192, 8191)


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_tags_and_body_limits_are_separate(as_bytes: bool) -> None:
    def run(line: str) -> Message:
        return parse(line.encode() if as_bytes else line)

    assert run(tags_of(8191) + body_of(510)).verb == "PRIVMSG"
    with pytest.raises(InputTooLong) as info:
        run(tags_of(8191) + body_of(511))
    assert info.value.section == "body"
    with pytest.raises(InputTooLong) as info:
        run(tags_of(8192) + body_of(510))
    assert info.value.section == "tags"
    # Extra spaces after the tag section belong to the body.
    assert run(tags_of(8191) + " " + body_of(509)).verb == "PRIVMSG"
    with pytest.raises(InputTooLong):
        run(tags_of(8191) + " " + body_of(510))


def test_tag_section_without_verb() -> None:
    with pytest.raises(ParseError):
        parse("@k=" + "v" * 8188)  # 8191 bytes, no space, no verb
    with pytest.raises(InputTooLong):
        parse("@k=" + "v" * 8189)  # over the limit: that is reported first


def test_custom_limits() -> None:
    assert parse(body_of(98), max_body=100).verb == "PRIVMSG"
    with pytest.raises(InputTooLong):
        parse(body_of(99), max_body=100)
    assert parse(tags_of(4096) + "PING", max_tags=4096).tags is not None
    with pytest.raises(InputTooLong):
        parse(tags_of(4097) + "PING", max_tags=4096)
    # With a large limit, a long line is fine.
    assert parse(body_of(5000), max_body=5002).verb == "PRIVMSG"


# --------------------------------------------------------------------------------------------------------
# Serialising


@pytest.mark.parametrize(
    ("msg", "raw"),
    [
        (Message("PING"), b"PING\r\n"),
        (Message("PING", ["x"]), b"PING x\r\n"),
        (Message("PING", [""]), b"PING :\r\n"),
        (Message("PING", ["a b"]), b"PING :a b\r\n"),
        (Message("PING", [":x"]), b"PING ::x\r\n"),
        (Message("PING", ["a:b"]), b"PING a:b\r\n"),
        (Message("PRIVMSG", ["#a", "hi there"], "n!u@h"), b":n!u@h PRIVMSG #a :hi there\r\n"),
        (Message("TAGMSG", ["#a"], None, {"+typing": "active", "k": ""}), b"@+typing=active;k TAGMSG #a\r\n"),
        (Message("X", [], None, {"k": "a;b c\\d\re\nf"}), b"@k=a\\:b\\sc\\\\d\\re\\nf X\r\n"),
        (Message("X", [], None, {}), b"X\r\n"),
        (Message("PRIVMSG", ["#a", "caf\u00e9"]), "PRIVMSG #a caf\u00e9\r\n".encode()),
        (Message("PRIVMSG", ["#a", "tab\there"]), b"PRIVMSG #a tab\there\r\n"),
    ],
)
def test_to_bytes(msg: Message, raw: bytes) -> None:
    assert msg.to_bytes() == raw
    assert format(msg.verb, msg.params, msg.source, msg.tags) == raw
    assert parse(raw) == msg


@pytest.mark.parametrize(
    ("verb", "params", "source", "tags"),
    [
        ("", [], None, None),
        ("PI NG", [], None, None),
        (":PING", [], None, None),
        ("@PING", [], None, None),
        ("PING", ["a b", "c"], None, None),
        ("PING", ["", "c"], None, None),
        ("PING", [":a", "c"], None, None),
        ("PING", ["a"], "", None),
        ("PING", ["a"], "a b", None),
        ("PING", ["a\rb"], None, None),
        ("PING", ["a\nb"], None, None),
        ("PING", ["a\0b"], None, None),
        ("PING", ["a"], "s\r", None),
        ("PI\nNG", [], None, None),
        ("PING", [], None, {"": "x"}),
        ("PING", [], None, {"a=b": "x"}),
        ("PING", [], None, {"a;b": "x"}),
        ("PING", [], None, {"a b": "x"}),
        ("PING", [], None, {"a\n": "x"}),
        ("PING", [], None, {"a": "x\0"}),
    ],
)
def test_format_rejects(
    verb: str, params: list[str], source: str | None, tags: dict[str, str] | None
) -> None:
    with pytest.raises(ValueError):
        format(verb, params, source, tags)
    with pytest.raises(ValueError):
        Message(verb, params, source, tags).to_bytes()


def test_format_rejects_a_string_as_params() -> None:
    with pytest.raises(TypeError):
        format("PING", "abc")


def test_format_replaces_lone_surrogates() -> None:
    assert format("PRIVMSG", ["#a", "x\udcff"]) == b"PRIVMSG #a x?\r\n"


# --------------------------------------------------------------------------------------------------------
# Message and the tag-value helpers


def test_message_fields_and_equality() -> None:
    params = ["#a", "hi"]
    msg = Message("PRIVMSG", params, "n!u@h", {"a": "1"})
    assert (msg.verb, msg.params, msg.source, msg.tags) == ("PRIVMSG", ["#a", "hi"], "n!u@h", {"a": "1"})
    assert msg.params is not params  # copied
    assert msg == Message("PRIVMSG", ("#a", "hi"), "n!u@h", {"a": "1"})
    assert msg != Message("PRIVMSG", ["#a", "hi"], "n!u@h")
    assert msg != Message("PRIVMSG", ["#a", "hi"], None, {"a": "1"})
    assert msg != Message("NOTICE", ["#a", "hi"], "n!u@h", {"a": "1"})
    assert msg != Message("PRIVMSG", ["#a"], "n!u@h", {"a": "1"})
    assert msg != "PRIVMSG"
    assert Message("PING", tags={}).tags is None
    bare = Message("PING")
    bare.tags = {}
    assert bare == Message("PING")
    with pytest.raises(TypeError):
        hash(msg)
    assert Message.__slots__ == ("tags", "source", "verb", "params")
    assert not hasattr(msg, "__dict__")


@pytest.mark.parametrize(
    "msg",
    [Message("PING"), Message("PRIVMSG", ["#a", "hi"], "n!u@h", {"a": "1", "b": ""}), Message("X", [""])],
)
def test_message_repr(msg: Message) -> None:
    assert eval(repr(msg), {"Message": Message}) == msg


@pytest.mark.parametrize(
    ("escaped", "value"),
    [
        ("", ""),
        ("plain", "plain"),
        ("a\\:b", "a;b"),
        ("a\\sb", "a b"),
        ("a\\\\b", "a\\b"),
        ("a\\rb\\n", "a\rb\n"),
        ("a\\bc", "abc"),
        ("\\", ""),
        ("abc\\", "abc"),
        ("\\\\\\", "\\"),
        ("\\\\n", "\\n"),
        ("\\:\\s\\\\\\r\\n", "; \\\r\n"),
    ],
)
def test_unescape_tag_value(escaped: str, value: str) -> None:
    assert unescape_tag_value(escaped) == value


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("", ""), ("plain", "plain"), ("a;b c\\d\re\nf", "a\\:b\\sc\\\\d\\re\\nf"), ("\\s", "\\\\s")],
)
def test_escape_tag_value(value: str, escaped: str) -> None:
    assert escape_tag_value(value) == escaped


@given(st.text())
def test_tag_value_escaping_round_trips(value: str) -> None:
    escaped = escape_tag_value(value)
    assert not any(c in escaped for c in "; \r\n")
    assert unescape_tag_value(escaped) == value


# --------------------------------------------------------------------------------------------------------
# Properties

BIG = 10**9  # limits large enough for any generated message

_FORBIDDEN = "\0\r\n"
_token_chars = st.characters(codec="utf-8", exclude_characters=_FORBIDDEN + " ")
tokens = st.text(_token_chars, min_size=1)

tag_keys = st.text(st.characters(codec="utf-8", exclude_characters=_FORBIDDEN + " =;"), min_size=1)
tag_values = st.text(st.characters(codec="utf-8", exclude_characters="\0"))
tag_maps = st.none() | st.dictionaries(tag_keys, tag_values, max_size=6)
sources = st.none() | tokens
verbs = tokens.filter(lambda v: v[0] not in ":@") | st.sampled_from(["PRIVMSG", "NOTICE", "001", "JOIN"])
middles = tokens.filter(lambda p: p[0] != ":")
lasts = st.text(st.characters(codec="utf-8", exclude_characters=_FORBIDDEN))
param_lists = st.builds(lambda m, last: m + last, st.lists(middles, max_size=16), st.lists(lasts, max_size=1))


@settings(max_examples=500)
@given(tag_maps, sources, verbs, param_lists)
@example({"a": ""}, "s", "V", [""])
@example({"a": "\\"}, ":s", "V", ["x", ": "])
@example(None, None, "V", ["a", ""])
def test_round_trip(tags: dict[str, str] | None, source: str | None, verb: str, params: list[str]) -> None:
    msg = Message(verb, params, source, tags)
    raw = msg.to_bytes()
    assert raw.endswith(b"\r\n")
    assert b"\r" not in raw[:-2] and b"\n" not in raw[:-2] and b"\0" not in raw
    parsed = parse(raw[:-2], max_body=BIG, max_tags=BIG)
    assert parsed == msg
    assert (parsed.tags, parsed.source, parsed.verb, parsed.params) == (msg.tags, source, verb, params)
    assert parse(raw, max_body=BIG, max_tags=BIG) == msg  # a trailing CR LF is stripped
    assert parse(raw.decode("utf-8"), max_body=BIG, max_tags=BIG) == msg


@settings(max_examples=500)
@given(sources, verbs, param_lists, st.booleans())
@example(None, "001", ["alice", "x"], True)
@example("irc.test", "305", ["alice"], False)
@example("s", "MODE", ["#a", "+k", ":key"], False)
def test_server_writer_round_trips(source: str | None, verb: str, items: list[str], colon: bool) -> None:
    """The writer the server uses (line and params: numerics, server lines, renderers) writes what parses
    back to the same parameters, the last one after ``:`` when it must be or when asked, and agrees with the
    checked format() when not asked."""
    head = verb if source is None else f":{source} {verb}"
    raw = write_line(f"{head} {params(items, colon)}" if items else head)
    assert parse(raw[:-2], max_body=BIG, max_tags=BIG) == Message(verb, items, source)
    if items and colon:
        assert raw.rstrip(b"\r\n").endswith(b" :" + items[-1].encode("utf-8", "replace"))
    if not colon:
        assert raw == format(verb, items, source)


def test_params_trailing_rule() -> None:
    assert params([]) == params([], colon=True) == ""
    assert params(["a"]) == "a"
    assert params(["a"], colon=True) == ":a"
    assert params(["a", "b"]) == "a b"
    assert params(["a", "b"], colon=True) == "a :b"
    assert params(["a", ""]) == "a :"
    assert params(["a", "b c"]) == "a :b c"
    assert params([":x"]) == "::x"
    assert write_line("PING x\udcff") == b"PING x?\r\n"


# Lines built from the characters that matter to the grammar, to reach every branch.
_grammar = st.text(
    st.sampled_from(list("@:; =\\ab\t\r\n\0\u00e9")) | st.characters(codec="utf-8"), max_size=60
)


def _parse_or_reject(line: bytes | str, **limits: int) -> Message | None:
    try:
        return parse(line, **limits)
    except (ParseError, InputTooLong):
        return None


@settings(max_examples=500)
@given(st.binary(max_size=700) | _grammar.map(str.encode) | st.binary(min_size=8180, max_size=8800))
def test_parse_arbitrary_bytes_raises_only_codec_errors(line: bytes) -> None:
    msg = _parse_or_reject(line)
    if msg is not None:
        assert msg.verb and " " not in msg.verb
        assert all(isinstance(p, str) for p in msg.params)
    _parse_or_reject(line, max_body=20, max_tags=10)
    _parse_or_reject(line, max_body=0, max_tags=0)


@settings(max_examples=500)
@given(st.text(max_size=600) | _grammar)
def test_parse_arbitrary_text_raises_only_codec_errors(line: str) -> None:
    _parse_or_reject(line)
    _parse_or_reject(line, max_body=20, max_tags=10)


@settings(max_examples=500)
@given(_grammar)
@example("@a=b @c")
@example("@a=\\ V x\t:y")
def test_everything_parsed_can_be_written_back(line: str) -> None:
    """What the server accepts it can relay: format() never refuses a parsed message; it reads back equal."""
    msg = _parse_or_reject(line, max_body=BIG, max_tags=BIG)
    if msg is not None:
        assert parse(msg.to_bytes()[:-2], max_body=BIG, max_tags=BIG) == msg


def _outcome(line: bytes | str, **limits: int) -> Message | str:
    try:
        return parse(line, **limits)
    except (ParseError, InputTooLong) as exc:
        return type(exc).__name__


@given(st.text(max_size=700) | _grammar, st.sampled_from([(512, 8191), (30, 12)]))
def test_str_and_bytes_input_agree(line: str, limits: tuple[int, int]) -> None:
    max_body, max_tags = limits
    assert _outcome(line, max_body=max_body, max_tags=max_tags) == _outcome(
        line.encode(), max_body=max_body, max_tags=max_tags
    )
