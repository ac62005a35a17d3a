"""Real IRC programs driven headless from pytest: terminal clients, and reference servers to prove them on.

* ``IrssiClient``: irssi in a detached tmux session (its own ``tmux -L`` socket), with an isolated ``--home``.
  Keys go in with ``tmux send-keys``; what the user sees comes back with ``tmux capture-pane -p``.
* ``WeechatClient``: ``weechat-headless``, with the fifo plugin for input and the logger plugin's files
  (flushed at once) for output.
* ``RawIrcClient``: a raw-socket IRC client in the style of ``helpers.Client`` (CRLF out, PINGs answered).
* ``ReferenceServer``: miniircd (PyPI) or ngircd (Debian) on 127.0.0.1 and a free port, to prove a harness on.

Every wait polls an observable thing (the screen, a log file, a socket) against a deadline of ``TIMEOUT``
seconds (HUBBUB_TEST_TIMEOUT); none sleeps a fixed time to synchronise. A helper whose program is missing
skips the test, unless HUBBUB_REQUIRE_REAL_CLIENTS=1, when it fails it instead (for CI, where they are
installed).

    with IrssiClient(port, "alice") as alice:
        alice.join("#lobby").say("hi")
        alice.wait_for_message("bob", "hello")     # the screen line "<bob> hello" (or "<@bob> hello")
        alice.wait_for_text(r"^-!- bob \\[.*\\] has quit")
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TypeVar

import pytest

from helpers import TIMEOUT, Client, ServerProcess

POLL = 0.05
"""Seconds between two looks at a screen or a log file while waiting for something to appear on it."""

NICK_MODES = "~&@%+"
"""Channel-membership prefixes a client may print before a nick (``<@bob> hi``)."""

REGISTERED_MARK = "hubbub-harness: registered as"


def stop_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a program started in its own process group: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


def require_binary(name: str) -> str:
    """The path of the program ``name``; skip the test if it is not installed (fail if it is required)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install -y {_DEBIAN_PACKAGE.get(name, name)})"
        if os.environ.get("HUBBUB_REQUIRE_REAL_CLIENTS") == "1":
            pytest.fail(message + " and HUBBUB_REQUIRE_REAL_CLIENTS=1", pytrace=False)
        pytest.skip(message)
    return path


_DEBIAN_PACKAGE = {
    "weechat-headless": "weechat-headless",
    "tmux": "tmux",
    "irssi": "irssi",
    "telnet": "telnet",
}


def irc_port(server: ServerProcess) -> int:
    """The IRC port of a hubbub started with ``--irc-port auto`` (any free port), read from its log."""
    return int(server.wait_log(r"listening for IRC on 127\.0\.0\.1:(\d+)").group(1))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago (for servers that cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


T = TypeVar("T")


def _poll_until(
    probe: Callable[[], T | None],
    timeout: float,
    describe: Callable[[], str],
    alive: Callable[[], bool] | None = None,
) -> T:
    """Call ``probe`` every ``POLL`` seconds until it returns something or ``timeout`` seconds have passed.

    ``describe`` says what was awaited and what there was instead, for the failure; if ``alive`` turns false
    the wait fails at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if alive is not None and not alive():
            found = probe()  # it may have printed its last words before it went
            if found is not None:
                return found
            raise AssertionError("the program exited while we waited\n" + describe())
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {timeout}s\n" + describe())
        time.sleep(min(POLL, remaining))


def _nth_match(regex: re.Pattern[str], text: str, count: int) -> re.Match[str] | None:
    for index, found in enumerate(regex.finditer(text), start=1):
        if index == count:
            return found
    return None


def _check_line(text: str) -> None:
    if any(char in text for char in "\r\n\t\0"):
        raise ValueError(f"a typed line cannot hold CR, LF, TAB or NUL: {text!r}")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        content = path.read_text("utf-8", "replace").splitlines()
    except OSError as exc:
        return f"({path}: {exc})"
    return "\n".join(content[-lines:])


def _conf_string(value: str) -> str:
    """A value quoted for an irssi config file."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RealClient(Protocol):
    """What every real-client helper offers, so a test can be parametrised over the clients."""

    nick: str

    def join(self, channel: str) -> Self: ...
    def say(self, text: str) -> Self: ...
    def msg(self, target: str, text: str) -> Self: ...
    def wait_for_text(
        self, pattern: str, *, count: int = 1, timeout: float | None = None
    ) -> re.Match[str]: ...
    def wait_for_message(
        self,
        nick: str,
        text: str,
        *,
        channel: str | None = None,
        count: int = 1,
        timeout: float | None = None,
    ) -> re.Match[str]: ...
    def wait_for_private(
        self, nick: str, text: str, *, count: int = 1, timeout: float | None = None
    ) -> re.Match[str]: ...
    def quit(self, reason: str = "") -> None: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------------- irssi


class IrssiClient:
    """irssi in a detached tmux session, connected to 127.0.0.1:``port`` as ``nick`` once constructed.

    The screen is ``width`` x ``height`` characters (no tmux status line) and nothing scrolls into tmux's
    history, so a test sees the last ``height - 2`` lines irssi printed: keep tests under that, or look with
    ``wait_for_text`` before more output pushes a line off. The config makes lines easy to match:

    * no timestamps, no topic bar, ``show_nickmode_empty`` off: ``<bob> hi``, or ``<@bob> hi`` for an op;
    * one window for everything (``autocreate_windows`` off, the last joined channel stays the active item);
      a message in a channel that is not the active item reads ``<bob:#dev> hi``;
    * no query windows: a private message reads ``[bob(bob@host)] hi`` and one sent ``[msg(bob)] hi``;
    * no flood throttling (irssi holds commands back 2.2 s each after 5 by default), no reconnects, no paste
      detection, no CAP negotiation if ``cap`` is false (``-nocap``);
    * every byte irssi sends and receives goes to ``rawlog`` (a failure message shows its tail).
    """

    def __init__(
        self,
        port: int,
        nick: str,
        *,
        host: str = "127.0.0.1",
        cap: bool = True,
        width: int = 200,
        height: int = 100,
        timeout: float = TIMEOUT,
        connect: bool = True,
    ) -> None:
        self.tmux = require_binary("tmux")
        self.irssi = require_binary("irssi")
        self.port = port
        self.host = host
        self.nick = nick
        self.cap = cap
        self.timeout = timeout
        self.dir = Path(tempfile.mkdtemp(prefix="hubbub-irssi-"))
        self.home = self.dir / "irssi"
        self.home.mkdir()
        self.rawlog = self.dir / "raw.log"
        self.socket_name = f"hubbub-irssi-{os.getpid()}-{secrets.token_hex(4)}"
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith(("TMUX", "LC_", "IRSSI"))
        }
        # A UTF-8 locale for tmux and irssi alike: without it tmux shows non-ASCII characters as "_" and irssi
        # recodes what it sends. HOME is the scratch directory, so nothing of the real user's leaks in.
        self.env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color", HOME=str(self.dir))
        self.pids: list[int] = []
        self._socket: Path | None = None
        self._closed = False
        self._write_config()
        try:
            self._start(width, height)
            if connect:
                self.connect()
        except BaseException:
            self.close()
            raise

    # ---- set-up

    def _write_config(self) -> None:
        nick = _conf_string(self.nick)
        (self.home / "config").write_text(
            f"""servers = (
  {{ address = {_conf_string(self.host)}; chatnet = "hubbub"; port = "{self.port}"; autoconnect = "no";
    use_tls = "no"; }}
);
chatnets = {{
  hubbub = {{
    type = "IRC"; nick = {nick}; username = {nick}; realname = {nick};
    autosendcmd = "/echo {REGISTERED_MARK} $N"; cmdspeed = "0"; cmdmax = "1000";
  }};
}};
settings = {{
  core = {{
    nick = {nick}; user_name = {nick}; real_name = {nick}; settings_autosave = "no";
    server_reconnect_time = "-1";
  }};
  "irc/core" = {{ cmd_queue_speed = "0"; cmds_max_at_once = "1000"; }};
  "fe-common/core" = {{
    timestamps = "no"; show_nickmode_empty = "no"; autocreate_windows = "no"; autofocus_new_items = "no";
    autocreate_query_level = "NONE"; beep_msg_level = "";
  }};
  "fe-text" = {{ paste_detect_time = "0"; }};
}};
statusbar = {{ default = {{ topic = {{ disabled = "yes"; }}; }}; }};
""",
            "utf-8",
        )
        (self.dir / "tmux.conf").write_text(
            "set -g status off\n"  # all the rows for irssi
            "set -g remain-on-exit on\n"  # keep a dead irssi's last screen to show in the failure
            "set -g history-limit 0\n"
            'set -g default-terminal "screen"\n',  # a terminfo entry every Debian has (ncurses-base)
            "utf-8",
        )

    def _start(self, width: int, height: int) -> None:
        self._tmux(
            "-f",
            str(self.dir / "tmux.conf"),
            "new-session",
            "-d",
            "-s",
            "irssi",
            "-x",
            str(width),
            "-y",
            str(height),
            "--",
            self.irssi,
            f"--home={self.home}",
        )
        info = self._tmux("display-message", "-p", "-t", "irssi", "#{pid} #{pane_pid} #{socket_path}").split()
        self.pids = [int(info[0]), int(info[1])]
        self._socket = Path(info[2])
        # irssi may drop keys that arrive while it sets up the terminal, so keep asking it to echo a mark
        # (an idempotent command) until one shows: from then on it reads every key.
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            attempt += 1
            self._tmux("send-keys", "-t", "irssi", "C-u")
            self.type_line(f"/echo hubbub-harness: ready {attempt}")
            try:
                self.wait_for_text(
                    r"^-!- hubbub-harness: ready \d+$",
                    timeout=min(1.0, max(0.0, deadline - time.monotonic())),
                )
                return
            except AssertionError:
                if time.monotonic() >= deadline or not self.alive():
                    raise

    def connect(self) -> Self:
        """``/connect`` and wait until the server has welcomed us (001); ``self.nick`` is the nick it gave."""
        options = f"-rawlog {self.dir / 'raw.log'}" + ("" if self.cap else " -nocap")
        self.type_line(f"/connect {options} hubbub")
        found = self.wait_for_text(
            rf"^-!- {REGISTERED_MARK} (?P<nick>\S+)$"
            r"|^-!- Irssi: (?P<error>Unable to connect.*|Connection lost.*|Unable to resolve.*)$"
            r"|^-!- (?P<closed>ERROR .*|Closing Link.*)$"
        )
        if found.group("nick") is None:
            raise AssertionError(f"irssi could not connect: {found.group(0)}\n{self.describe()}")
        self.nick = found.group("nick")
        return self

    # ---- tmux plumbing

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket_name, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=self.timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"tmux {' '.join(args)} failed ({result.returncode}): "
                + result.stderr.decode("utf-8", "replace")
            )
        return result.stdout.decode("utf-8", "replace")

    def alive(self) -> bool:
        """Whether irssi is still running in its pane."""
        try:
            return self._tmux("display-message", "-p", "-t", "irssi", "#{pane_dead}").strip() == "0"
        except (AssertionError, subprocess.TimeoutExpired):
            return False

    def screen(self) -> str:
        """What the terminal shows now: one line per row, trailing blanks and empty bottom rows removed."""
        raw = self._tmux("capture-pane", "-p", "-t", "irssi")
        return "\n".join(line.rstrip() for line in raw.splitlines()).rstrip("\n")

    def describe(self) -> str:
        """The screen and the tail of the raw log, for a failure message."""
        try:
            screen = self.screen()
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            screen = f"(no screen: {exc})"
        screen = re.sub(r"\n{3,}", "\n\n", screen)  # the empty rows above the status bar, shown as one
        return f"--- irssi screen ({self.nick}):\n{screen}\n--- raw log tail:\n{_tail(self.rawlog)}"

    # ---- typing

    def type_line(self, text: str) -> Self:
        """Type ``text`` into irssi's input line and press Enter, as a user would (``/`` starts a command)."""
        _check_line(text)
        self._tmux("send-keys", "-t", "irssi", "-l", "--", text)
        self._tmux("send-keys", "-t", "irssi", "Enter")
        return self

    def command(self, text: str) -> Self:
        """Run an irssi command: ``command("/topic hello")``."""
        if not text.startswith("/"):
            raise ValueError(f"an irssi command starts with '/': {text!r}")
        return self.type_line(text)

    def join(self, channel: str) -> Self:
        """``/join channel`` and wait for irssi to show that we joined it; it becomes the active item.

        If the screen shows us in it already (a server may join a client itself), irssi sends nothing and
        only makes it the active item. Either way this returns once the prompt names it: ``[#lobby]``.
        """
        nick, chan = re.escape(self.nick), re.escape(channel)
        joined = rf"(?i)^-!- {nick}(?: \[.*?\])? has joined {chan}$"
        seen = self.count(joined)
        left = self.count(rf"(?i)^-!- {nick}(?: \[.*?\])? has left {chan}(?: \[.*\])?$")
        left += self.count(rf"(?i)^-!- {nick} was kicked from {chan} by ")
        self.type_line(f"/join {channel}")
        if seen <= left:
            self.wait_for_text(joined, count=seen + 1)
            # irssi does not always focus a channel it rejoins (autofocus_new_items is off), so make sure
            self.type_line(f"/window item goto {channel}")
        self.wait_for_text(rf"(?i)^\[{chan}\]\Z")  # the last row, the prompt: "[#lobby]"
        return self

    def say(self, text: str) -> Self:
        """Say ``text`` in the active channel and wait until irssi shows it as ours (it does so locally)."""
        regex = self._message_regex(self.nick, text, None)
        seen = self.count(regex)
        self.type_line(f"/msg * {text}" if text.startswith("/") else text)
        self.wait_for_text(regex, count=seen + 1)
        return self

    def msg(self, target: str, text: str) -> Self:
        """``/msg target text`` and wait until irssi shows it as sent."""
        if target[:1] in "#&+!":
            regex = self._message_regex(self.nick, text, target)
        else:
            regex = rf"(?i)^\[msg\({re.escape(target)}\)\] {re.escape(text)}$"
        seen = self.count(regex)
        self.type_line(f"/msg {target} {text}")
        self.wait_for_text(regex, count=seen + 1)
        return self

    def quit(self, reason: str = "") -> None:
        """``/quit reason`` and wait for irssi to exit."""
        self.type_line(f"/quit {reason}".rstrip())
        _poll_until(
            lambda: None if self.alive() else True,
            self.timeout,
            lambda: "irssi did not exit after /quit\n" + self.describe(),
        )

    # ---- reading the screen

    def count(self, pattern: str) -> int:
        """How many times ``pattern`` (multi-line: ``^``/``$`` are a row's ends) matches the screen now."""
        return sum(1 for _ in re.finditer(pattern, self.screen(), re.MULTILINE))

    def wait_for_text(self, pattern: str, *, count: int = 1, timeout: float | None = None) -> re.Match[str]:
        """Wait until ``pattern`` matches the screen ``count`` times; return the ``count``-th match.

        The pattern is searched in multi-line mode, so ``^`` and ``$`` anchor at a row's ends and ``.`` stays
        on one row. irssi wraps a line longer than the screen itself, indenting the rest on the next row.
        """
        regex = re.compile(pattern, re.MULTILINE)
        wait = self.timeout if timeout is None else timeout
        return _poll_until(
            lambda: _nth_match(regex, self.screen(), count),
            wait,
            lambda: f"no {count} x {pattern!r} on the screen\n" + self.describe(),
            self.alive,
        )

    @staticmethod
    def _message_regex(nick: str, text: str, channel: str | None) -> str:
        chan = "" if channel is None else f"(?::{re.escape(channel)})?"
        return rf"^<[{re.escape(NICK_MODES)}]?{re.escape(nick)}{chan}> {re.escape(text)}$"

    def wait_for_message(
        self,
        nick: str,
        text: str,
        *,
        channel: str | None = None,
        count: int = 1,
        timeout: float | None = None,
    ) -> re.Match[str]:
        """Wait for ``<nick> text`` (any membership prefix; ``<nick:#channel> text`` when given a channel)."""
        return self.wait_for_text(self._message_regex(nick, text, channel), count=count, timeout=timeout)

    def wait_for_private(
        self, nick: str, text: str, *, count: int = 1, timeout: float | None = None
    ) -> re.Match[str]:
        """Wait for a private message from ``nick``: ``[nick(user@host)] text``."""
        regex = rf"^\[{re.escape(nick)}\(\S*\)\] {re.escape(text)}$"
        return self.wait_for_text(regex, count=count, timeout=timeout)

    # ---- teardown

    def close(self) -> None:
        """Kill the tmux server and irssi (if still there) and remove the scratch directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired, OSError):
            self._tmux("kill-server")
        _reap(self.pids, self.timeout)
        if self._socket is not None:
            self._socket.unlink(missing_ok=True)  # tmux leaves its socket file behind
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _reap(pids: list[int], timeout: float) -> None:
    """Wait (bounded) for processes we do not parent to go; SIGKILL any still there at the deadline."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while process_running(pid):
            if time.monotonic() >= deadline:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                break
            time.sleep(POLL)


def process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, already dead but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


# ------------------------------------------------------------------------------------------------- WeeChat


class WeechatClient:
    """``weechat-headless`` connected to 127.0.0.1:``port`` as ``nick`` once constructed.

    Input goes through the fifo plugin (``irc.server.hubbub */join #x``); output is read from the logger
    plugin's files, written at once (``logger.file.flush_delay 0``): one per buffer, each line
    ``date<TAB>prefix<TAB>message``. The ``wait_for_*`` methods match ``prefix<TAB>message`` lines, e.g.
    ``bob\\thello`` (``@bob\\thello`` for an op) in a channel, or ``-->\\tbob (bob@host) has joined #lobby``.

    A ``buffer`` argument is a channel or a nick (``"#lobby"``, ``"bob"``: its private buffer), a full buffer
    name (``SERVER``, ``CORE``), or None for the channel joined last.
    """

    SERVER = "irc.server.hubbub"
    CORE = "core.weechat"

    def __init__(
        self, port: int, nick: str, *, host: str = "127.0.0.1", timeout: float = TIMEOUT, connect: bool = True
    ) -> None:
        self.binary = require_binary("weechat-headless")
        self.port = port
        self.host = host
        self.nick = nick
        self.timeout = timeout
        self.channel: str | None = None
        self.dir = Path(tempfile.mkdtemp(prefix="hubbub-weechat-"))
        self.logs = self.dir / "logs"
        self.output = self.dir / "stdout.txt"
        self._closed = False
        env = {key: value for key, value in os.environ.items() if not key.startswith(("WEECHAT", "LC_"))}
        env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", HOME=str(self.dir))
        # The -r commands are evaluated (${...}), so nothing in them may hold "${"; "$nick" in the server's
        # "command" option is replaced later, when it runs (in the server buffer) after the welcome (001).
        setup = [
            "/set logger.file.flush_delay 0",
            "/set fifo.file.enabled on",
            f"/server add hubbub {host}/{port} -notls -nicks={nick} -username={nick} -realname={nick}"
            " -autoreconnect=off -anti_flood_prio_high=0 -anti_flood_prio_low=0",
            f'/set irc.server.hubbub.command "/print {REGISTERED_MARK} $nick"',
        ]
        if connect:
            setup.append("/connect hubbub")
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "--dir",
                    str(self.dir),
                    "--stdout",
                    "--no-script",
                    "--plugins",
                    "irc,logger,fifo",
                    "--run-command",
                    ";".join(setup),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        try:
            self.fifo = _poll_until(
                lambda: next(iter(self.dir.glob("weechat_fifo*")), None),
                self.timeout,
                lambda: "WeeChat made no fifo\n" + self.describe(),
                self.alive,
            )
            if connect:
                self.connected()
        except BaseException:
            self.close()
            raise

    def connected(self) -> Self:
        """Wait until the server has welcomed us (001); ``self.nick`` is the nick it gave."""
        found = self.wait_for_text(
            rf"^\t{REGISTERED_MARK} (?P<nick>\S+)$|^=!=\t(?P<error>irc: .*)$"
            r"|^--\t(?P<closed>irc: (?:connection refused|disconnected from server|.*error).*)$",
            buffer=self.SERVER,
        )
        if found.group("nick") is None:
            raise AssertionError(f"WeeChat could not connect: {found.group(0)}\n{self.describe()}")
        self.nick = found.group("nick")
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    # ---- input

    def _send(self, buffer: str, text: str) -> None:
        _check_line(text)
        line = f"{buffer} *{text}\n".encode()
        # The fifo plugin keeps the pipe open for reading; one write of a line under PIPE_BUF is atomic.
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def command(self, text: str, buffer: str = "irc.server.hubbub") -> Self:
        """Run a WeeChat command in a buffer: ``command("/topic hi", "irc.hubbub.#lobby")``."""
        if not text.startswith("/"):
            raise ValueError(f"a WeeChat command starts with '/': {text!r}")
        self._send(buffer, text)
        return self

    def join(self, channel: str) -> Self:
        """``/join channel`` and wait for its buffer to show that we joined; ``say`` then talks there.

        If its log shows us in it already (a server may join a client itself), WeeChat sends nothing.
        """
        nick, chan = re.escape(self.nick), re.escape(channel)
        joined = rf"(?i)^-->\t{nick}(?: \(.*?\))? has joined {chan}$"
        seen = self.count(joined, channel)
        left = self.count(rf"(?i)^<--\t{nick}(?: \(.*?\))? has left {chan}", channel)
        left += self.count(rf"(?i)^<--\t\S+ has kicked {nick}(?: |$)", channel)
        self.command(f"/join {channel}")
        if seen <= left:
            self.wait_for_text(joined, buffer=channel, count=seen + 1)
        self.channel = channel
        return self

    def say(self, text: str) -> Self:
        """Say ``text`` in the channel joined last and wait until WeeChat shows it as ours."""
        if self.channel is None:
            raise AssertionError("say() before join()")
        regex = self._message_regex(self.nick, text)
        seen = self.count(regex, self.channel)
        self._send(f"irc.hubbub.{self.channel}", "/" + text if text.startswith("/") else text)
        self.wait_for_text(regex, buffer=self.channel, count=seen + 1)
        return self

    def msg(self, target: str, text: str) -> Self:
        """``/msg target text`` (the fifo keeps commands in order, so there is nothing to wait for here)."""
        self.command(f"/msg {target} {text}")
        return self

    def quit(self, reason: str = "") -> None:
        """``/quit reason`` (WeeChat's quits the program) and wait for it to exit."""
        self.command(f"/quit {reason}".rstrip())
        try:
            self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("WeeChat did not exit after /quit\n" + self.describe()) from None

    # ---- output

    def log_file(self, buffer: str | None = None) -> Path:
        """The log file of a buffer (see the class doc)."""
        if buffer is None:
            if self.channel is None:
                raise AssertionError("no buffer given and no channel joined yet")
            buffer = self.channel
        name = buffer if buffer in (self.SERVER, self.CORE) else f"irc.hubbub.{buffer}"
        return self.logs / f"{name.lower()}.weechatlog"

    def lines(self, buffer: str | None = None) -> list[str]:
        """The ``prefix<TAB>message`` lines logged so far in a buffer."""
        try:
            raw = self.log_file(buffer).read_text("utf-8", "replace")
        except FileNotFoundError:
            return []
        return [line.partition("\t")[2] for line in raw.splitlines()]

    def count(self, pattern: str, buffer: str | None = None) -> int:
        return sum(1 for _ in re.finditer(pattern, "\n".join(self.lines(buffer)), re.MULTILINE))

    def wait_for_text(
        self, pattern: str, *, buffer: str | None = None, count: int = 1, timeout: float | None = None
    ) -> re.Match[str]:
        """Wait until ``pattern`` matches ``count`` lines of a buffer's log; return the ``count``-th match.

        Multi-line mode: ``^``/``$`` anchor at a line's ends.
        """
        path = self.log_file(buffer)
        regex = re.compile(pattern, re.MULTILINE)
        wait = self.timeout if timeout is None else timeout
        return _poll_until(
            lambda: _nth_match(regex, "\n".join(self.lines(buffer)), count),
            wait,
            lambda: f"no {count} x {pattern!r} in {path.name}\n" + self.describe(),
            self.alive,
        )

    @staticmethod
    def _message_regex(nick: str, text: str) -> str:
        return rf"^[{re.escape(NICK_MODES)}]?{re.escape(nick)}\t{re.escape(text)}$"

    def wait_for_message(
        self,
        nick: str,
        text: str,
        *,
        channel: str | None = None,
        count: int = 1,
        timeout: float | None = None,
    ) -> re.Match[str]:
        """Wait for ``text`` from ``nick`` in ``channel`` (default: the channel joined last)."""
        return self.wait_for_text(
            self._message_regex(nick, text), buffer=channel, count=count, timeout=timeout
        )

    def wait_for_private(
        self, nick: str, text: str, *, count: int = 1, timeout: float | None = None
    ) -> re.Match[str]:
        """Wait for a private message from ``nick`` (in WeeChat's private buffer for that nick)."""
        return self.wait_for_text(self._message_regex(nick, text), buffer=nick, count=count, timeout=timeout)

    def describe(self) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.weechatlog")):
            parts.append(f"--- {path.name}:\n{_tail(path)}")
        parts.append(f"--- weechat output:\n{_tail(self.output, 15)}")
        return "\n".join(parts)

    # ---- teardown

    def close(self) -> None:
        """Stop WeeChat (its whole process group) and remove the scratch directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        proc = getattr(self, "proc", None)
        if proc is not None:
            stop_group(proc, self.timeout)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


# ------------------------------------------------------------------------------------------- raw IRC client


class RawIrcClient(Client):
    """``helpers.Client`` speaking IRC: lines end in CRLF, PINGs are answered, and registration is done."""

    def __init__(self, port: int, nick: str | None = None) -> None:
        super().__init__(port)
        if nick is not None:
            self.register(nick)

    def send(self, text: str) -> None:
        _check_line(text)
        self.send_raw(text.encode() + b"\r\n")

    def read_line(self, timeout: float = TIMEOUT) -> str | None:
        while True:
            line = super().read_line(timeout)
            if line is not None and line.startswith("PING"):
                self.send("PONG" + line[4:])
                continue
            return line

    def register(self, nick: str, user: str | None = None) -> re.Match[str]:
        """NICK and USER, then wait for the welcome (001)."""
        self.send(f"NICK {nick}")
        self.send(f"USER {user or nick} 0 * :{nick}")
        found = self.expect(r"^:\S+ 001 (\S+) ")
        self.nick = found.group(1)
        return found

    def join(self, channel: str) -> re.Match[str]:
        """JOIN and wait for the server to echo it back."""
        self.send(f"JOIN {channel}")
        return self.expect(rf"(?i)^:{re.escape(self.nick)}(?:!\S*)? JOIN :?{re.escape(channel)}$")

    def privmsg(self, target: str, text: str) -> None:
        self.send(f"PRIVMSG {target} :{text}")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def expect_privmsg(self, sender: str, target: str, text: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait for ``:sender!user@host PRIVMSG target :text``."""
        return self.expect(
            rf"^:{re.escape(sender)}(?:!\S*)? PRIVMSG {re.escape(target)} :{re.escape(text)}$", timeout
        )


# ------------------------------------------------------------------------------------- reference servers


class ReferenceServer:
    """A reference IRC server on 127.0.0.1 and a free port: ``kind`` is "miniircd" or "ngircd"."""

    def __init__(self, kind: str, timeout: float = TIMEOUT) -> None:
        self.kind = kind
        self.timeout = timeout
        self.dir = Path(tempfile.mkdtemp(prefix=f"hubbub-{kind}-"))
        self.log: list[str] = []
        self._cond = threading.Condition()
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            if kind == "miniircd":
                if importlib.util.find_spec("miniircd") is None:
                    pytest.skip("miniircd is not installed (pip install miniircd)")
                start, listening = self._miniircd, r"Listening on port (\d+)\."
            elif kind == "ngircd":
                # a missing reference server only skips, even when the clients are required
                if shutil.which("ngircd") is None:
                    pytest.skip("ngircd is not installed (Debian: apt-get install -y ngircd)")
                start, listening = self._ngircd, r"Now listening on \[127\.0\.0\.1\]:(\d+)"
            else:
                raise ValueError(f"unknown reference server {kind!r}")
            # These servers cannot listen on port 0 and tell which port they got, so pick a free port and
            # try again (a few times, bounded) if another process took it in the meantime.
            for _attempt in range(5):
                port = free_port()
                if self._launch(start(port), listening):
                    self.port = port
                    return
            raise AssertionError(f"{kind} would not start:\n" + "\n".join(self.log))
        except BaseException:
            self.close()
            raise

    def _miniircd(self, port: int) -> list[str]:
        cmd = [sys.executable, "-m", "miniircd", "--listen", "127.0.0.1", "--ports", str(port), "--verbose"]
        if os.geteuid() == 0:
            cmd += ["--setuid", "root"]  # miniircd refuses to run as root unless told to stay root
        return cmd

    def _ngircd(self, port: int) -> list[str]:
        conf = self.dir / "ngircd.conf"
        conf.write_text(
            "[Global]\nName = irc.hubbub.test\nInfo = reference server for the hubbub tests\n"
            f"Listen = 127.0.0.1\nPorts = {port}\nMotdPhrase = reference ngircd\n"
            "[Limits]\nMaxConnectionsIP = 0\nMaxNickLength = 30\nMaxPenaltyTime = 0\nPingTimeout = 600\n"
            "[Options]\nDNS = no\nIdent = no\nPAM = no\n",
            "utf-8",
        )
        return ["ngircd", "--nodaemon", "--config", str(conf)]

    def _launch(self, cmd: list[str], listening: str) -> bool:
        """Start the server; True once it logged that it listens, False if it exited first."""
        with self._cond:
            self.log.clear()
        self.proc = proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            cwd=self.dir,
            start_new_session=True,
        )
        eof = threading.Event()
        threading.Thread(target=self._read_log, args=(proc, eof), daemon=True).start()
        regex = re.compile(listening)
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while True:
                if any(regex.search(line) for line in self.log):
                    return True
                if eof.is_set():
                    proc.wait(self.timeout)
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.kind} did not start listening:\n" + "\n".join(self.log))
                self._cond.wait(remaining)

    def _read_log(self, proc: subprocess.Popen[bytes], eof: threading.Event) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            with self._cond:
                self.log.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            eof.set()
            self._cond.notify_all()

    def close(self) -> None:
        proc = self.proc
        if proc is not None:
            stop_group(proc, self.timeout)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
