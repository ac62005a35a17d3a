"""The log's JSON lines when a record carries a stack or values JSON cannot hold, and moving the log to
another stream."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hubbub import logs
from hubbub.config import Config


@pytest.fixture
def restore_root() -> Iterator[None]:
    """The root logger is put back as it was afterwards."""
    root = logging.getLogger()
    level = root.level
    yield
    logs._stop_listener()
    for handler in (logs._queued, logs._handler):
        if handler is not None:
            root.removeHandler(handler)
    logs._handler = logs._queued = None
    logs._log_bodies = False
    root.setLevel(level)


def record(**extra: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "hubbub.test", "levelname": "WARNING", "msg": "m", **extra})


def test_a_json_line_carries_the_stack_when_asked() -> None:
    line = json.loads(
        logs.JsonFormatter().format(record(stack_info="Stack (most recent call last):\n  here"))
    )
    assert line["stack"] == "Stack (most recent call last):\n  here"
    assert "exception" not in line


def test_extra_values_json_cannot_hold_are_written_as_text() -> None:
    class Peer:
        def __str__(self) -> str:
            return "203.0.113.5:51234"

    line = json.loads(logs.JsonFormatter().format(record(peer=Peer(), ids=(1, 2))))
    assert line["peer"] == "203.0.113.5:51234"
    assert line["ids"] == [1, 2]
    assert line["level"] == "warning" and line["logger"] == "hubbub.test" and line["message"] == "m"


def test_configured_with_another_stream_the_log_moves_there(restore_root: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    logs.configure(Config(), stream=first)
    log = logging.getLogger("hubbub.test")
    log.warning("one")
    logs.configure(Config(log_format="json"), stream=second)
    log.warning("two")
    assert first.getvalue().endswith("WARNING hubbub.test: one\n")
    assert "two" not in first.getvalue()  # one handler, moved: nothing written twice
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["two"]


def test_the_servers_log_is_written_by_a_thread_and_flushed_at_exit(
    restore_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure(Config())  # standard error, as the server has it
    assert logs._listener is not None and logs._queued in logging.getLogger().handlers
    for i in range(200):
        logging.getLogger("hubbub.net").info("#%d disconnected", i)
    logs._stop_listener()  # what atexit does: everything queued is written, in order
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [f"#{i} disconnected" for i in range(200)]
    assert lines[0].split()[2:4] == ["INFO", "hubbub.net:"]


def test_with_several_processes_or_nodes_each_line_says_whose_it_is(
    restore_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    log = logging.getLogger("hubbub.test")
    logs.configure(Config(), stream=out)
    log.warning("alone")
    monkeypatch.setenv("HUBBUB_WORKER", "2/4")
    logs.configure(Config(), stream=out)
    log.warning("a worker")
    monkeypatch.delenv("HUBBUB_WORKER")
    logs.configure(Config(redis="redis://127.0.0.1:1/0", node_name="east"), stream=out)
    log.warning("a node")
    logs.configure(Config(redis="redis://127.0.0.1:1/0", node_name="east", log_format="json"), stream=out)
    log.warning("as json")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(" WARNING hubbub.test: alone")
    assert lines[1].endswith(" WARNING [worker 2/4] hubbub.test: a worker")
    assert lines[2].endswith(" WARNING [east] hubbub.test: a node")
    assert json.loads(lines[3])["node"] == "east"
