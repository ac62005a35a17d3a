"""End-to-end in a real browser: the built-in web page in headless Chromium (Debian's package, driven by
Playwright), chatting over the server's WebSocket with netcat and IRC users.

Every wait is bounded (Playwright's ``timeout=`` in milliseconds, from ``TIMEOUT``); nothing sleeps. Each
page collects its console errors, page errors and dialogs: a Content-Security-Policy violation is a console
error, and a script smuggled into a message would open a dialog.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpers import TIMEOUT, ServerProcess

from .test_http import nothing_reached

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    if os.environ.get("HUBBUB_REQUIRE_REAL_CLIENTS"):
        raise RuntimeError("the browser tests need Debian's chromium (apt-get install chromium)")
    pytest.skip("needs chromium (apt-get install chromium)", allow_module_level=True)

Start = Callable[..., ServerProcess]
WAIT = TIMEOUT * 1000  # Playwright counts in milliseconds


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Web:
    """One person's page, in a browser context of its own (its own localStorage)."""

    page: Any
    nick: str = ""
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.page.fill("#input", text)
        self.page.press("#input", "Enter")

    def log(self) -> Any:
        return self.page.locator("#log")

    def sees(self, text: str, timeout: float = WAIT) -> None:
        expect(self.log().get_by_text(text, exact=True).first).to_be_visible(timeout=timeout)

    def select(self, name: str) -> None:
        self.page.locator(f"#room-list button[data-buffer='{name}']").click()
        expect(self.page.locator("#title")).to_have_text(name, timeout=WAIT)

    def clean(self) -> None:
        assert self.problems == [], self.problems
        assert self.dialogs == [], self.dialogs


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Web]]:
    contexts: list[Any] = []

    def start(port: int, nick: str, *, width: int = 1100, height: int = 700, connect: bool = True) -> Web:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        web = Web(page, nick)

        def console(message: Any) -> None:
            if message.type in ("error", "warning") or "Content Security Policy" in message.text:
                web.problems.append(f"console {message.type}: {message.text}")

        def dialog(d: Any) -> None:
            web.dialogs.append(d.message)
            d.dismiss()

        page.on("console", console)
        page.on("pageerror", lambda error: web.problems.append(f"page error: {error}"))
        page.on("dialog", dialog)
        page.goto(f"http://127.0.0.1:{port}/")
        if connect:
            page.fill("#nick", nick)
            page.click("#connect-button")
            joined(web, "#lobby")
        return web

    yield start
    for context in contexts:
        context.close()


def joined(web: Web, room: str) -> None:
    expect(web.page.locator("#status")).to_have_text(f"connected as {web.nick}", timeout=WAIT)
    expect(web.page.locator(f"#room-list button[data-buffer='{room}']")).to_have_count(1, timeout=WAIT)
    expect(web.page.locator("#member-list")).to_contain_text(web.nick, timeout=WAIT)


def test_browsers_netcat_and_irc_users_chat_in_the_lobby(
    make_server: Start, open_page: Callable[..., Web]
) -> None:
    server = make_server("--irc-port", "auto")
    carol = server.connect("carol")
    dave = server.irc("dave")
    dave.send("JOIN #lobby")
    dave.expect(r" 366 dave #lobby ")
    ann = open_page(server.port, "ann")
    ben = open_page(server.port, "ben")
    expect(ann.page.locator("#member-list")).to_contain_text("ben", timeout=WAIT)
    expect(ann.page.locator("#member-list li")).to_have_count(4, timeout=WAIT)
    expect(ann.page.locator("#member-list")).to_contain_text("@carol")

    ann.say("hello from ann")
    ben.sees("hello from ann")
    carol.expect(r"^<ann> hello from ann$")
    dave.expect(r"^:ann!\S+ PRIVMSG #lobby :hello from ann$")

    carol.send("hi from netcat")
    dave.send("PRIVMSG #lobby :hi from irc")
    for web in (ann, ben):
        web.sees("hi from netcat")
        web.sees("hi from irc")

    ben.say("/me waves")
    carol.expect(r"^\* ben waves$")
    expect(ann.log().locator(".msg.action").last).to_contain_text("* ben", timeout=WAIT)
    expect(ann.log().locator(".msg.action .body").last).to_have_text("waves")

    # A private message opens a conversation with an unread mention; a mention in a room is marked.
    ben.say("/msg ann psst")
    badge = ann.page.locator("#room-list button[data-buffer='ben'] .badge.mention")
    expect(badge).to_have_text("1", timeout=WAIT)
    ann.select("ben")
    ann.sees("psst")
    expect(badge).to_have_count(0)
    carol.send("ann: are you there?")
    ann.select("#lobby")
    expect(ann.log().locator(".msg.mention .body").last).to_have_text("ann: are you there?", timeout=WAIT)

    # A room of one's own: joined from the box, its topic set and shown to the others.
    ben.page.fill("#join-input", "#web")
    ben.page.press("#join-input", "Enter")
    expect(ben.page.locator("#title")).to_have_text("#web", timeout=WAIT)
    expect(ben.page.locator("#member-list")).to_contain_text("@ben", timeout=WAIT)
    ben.say("/topic all about browsers")
    expect(ben.page.locator("#topic")).to_have_text("all about browsers", timeout=WAIT)
    dave.send("JOIN #web")
    dave.expect(r" 332 dave #web :all about browsers$")
    expect(ben.page.locator("#member-list li")).to_have_count(2, timeout=WAIT)

    # The room browser lists both rooms; a click joins.
    ann.page.click("#browse")
    row = ann.page.locator("#list-rows button", has_text="#web")
    expect(row).to_be_visible(timeout=WAIT)
    row.click()
    expect(ann.page.locator("#title")).to_have_text("#web", timeout=WAIT)
    expect(ann.page.locator("#topic")).to_have_text("all about browsers", timeout=WAIT)
    ann.clean()
    ben.clean()


def test_markup_from_netcat_is_shown_as_text_and_runs_nothing(
    make_server: Start, open_page: Callable[..., Web]
) -> None:
    server = make_server()
    carol = server.connect("carol")
    ann = open_page(server.port, "ann")
    attack = (
        "<img src=x onerror=alert(1)> <script>alert(2)</script> javascript:alert(3) https://example.org/a"
    )
    carol.send(attack)
    ann.sees(attack)
    assert ann.log().locator("img, script").count() == 0
    links = ann.log().locator("a")
    expect(links).to_have_count(1)
    assert links.get_attribute("href") == "https://example.org/a"
    assert links.get_attribute("rel") == "noopener noreferrer"
    ann.clean()


def test_scrolling_up_loads_older_history(
    make_server: Start, open_page: Callable[..., Web], tmp_path: Path
) -> None:
    server = make_server("--db", str(tmp_path / "chat.db"))
    carol = server.connect("carol")
    watcher = server.connect("watcher")
    for i in range(130):
        carol.send(f"seed {i:03}")
    watcher.expect(r"^<carol> seed 129$")
    ann = open_page(server.port, "ann", height=500)
    ann.sees("seed 129")
    messages = ann.log().locator(".msg[data-msgid]")
    expect(messages).to_have_count(50, timeout=WAIT)
    for count in (100, 130):
        ann.log().evaluate("log => { log.scrollTop = 0; }")
        expect(messages).to_have_count(count, timeout=WAIT)
    ann.sees("seed 000")
    # Every line once, in order, and the button for more is gone: the beginning was reached.
    texts = ann.log().locator(".msg[data-msgid] .body").all_text_contents()
    assert texts == [f"seed {i:03}" for i in range(130)]
    expect(ann.page.locator("#log .older")).to_be_hidden()
    ann.clean()


def test_after_a_server_restart_the_page_reconnects_rejoins_and_fetches_what_it_missed(
    make_server: Start, open_page: Callable[..., Web], tmp_path: Path
) -> None:
    db = str(tmp_path / "chat.db")
    first = make_server("--db", db)
    port = first.port
    carol = first.connect("carol")
    ann = open_page(port, "ann")
    ann.page.fill("#join-input", "#web")
    ann.page.press("#join-input", "Enter")
    expect(ann.page.locator("#title")).to_have_text("#web", timeout=WAIT)
    ann.select("#lobby")
    carol.send("before the restart")
    ann.sees("before the restart")

    first.stop()
    expect(ann.page.locator("#status")).to_contain_text("offline", timeout=WAIT)
    # Meanwhile, on the same store (a server on another port, which the page cannot reach), the chat goes on.
    meanwhile = make_server("--db", db)
    talker = meanwhile.connect("carol")
    talker.send("while you were away")
    talker.send("and another thing")
    talker.sync()
    meanwhile.stop()

    again = make_server("--db", db, "--port", str(port))
    assert again.port == port
    expect(ann.page.locator("#status")).to_have_text("connected as ann", timeout=3 * WAIT)
    ann.sees("while you were away")
    ann.sees("and another thing")
    watcher = again.connect("watcher")
    watcher.send("/who #lobby")
    watcher.expect(r"^\* 2 in #lobby: @ann, watcher$")
    watcher.send("/join #web")  # ann is invisible (+i) to those outside #web, as on IRC
    watcher.expect(r"^\* You are in #web with ann$")
    texts = ann.log().locator(".msg[data-msgid] .body").all_text_contents()
    assert texts == ["before the restart", "while you were away", "and another thing"]
    # The session's end and the failed attempts to reconnect are not page errors.
    assert [p for p in ann.problems if "WebSocket" not in p] == []
    assert ann.dialogs == []


class _Foreign(BaseHTTPRequestHandler):
    """A page of another origin that makes its visitor's browser post chat lines to the chat port, and open a
    WebSocket there."""

    target = 0

    def do_GET(self) -> None:
        port = self.target
        body = f"""<!doctype html><title>elsewhere</title><script>
        fetch('http://127.0.0.1:{port}/', {{method: 'POST', mode: 'no-cors',
               body: '/nick pwned\\nvisit evil.example now\\n/quit\\n'}})
          .catch(() => null).finally(() => {{ document.title = 'posted'; }});
        const ws = new WebSocket('ws://127.0.0.1:{port}/socket', ['text.ircv3.net']);
        ws.onclose = () => {{ document.body.dataset.ws = 'closed'; }};
        ws.onopen = () => {{ ws.send('NICK pwned2'); ws.send('USER a 0 * :a'); }};
        </script>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_page_of_another_origin_cannot_make_a_browser_chat(make_server: Start, browser: Any) -> None:
    server = make_server()
    watcher = server.connect("watcher")
    handler = type("Foreign", (_Foreign,), {"target": server.port})
    foreign = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=foreign.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{foreign.server_address[1]}/")
        expect(page).to_have_title("posted", timeout=WAIT)
        expect(page.locator("body")).to_have_attribute("data-ws", "closed", timeout=WAIT)
    finally:
        context.close()
        foreign.shutdown()
        foreign.server_close()
    server.wait_log(r"HTTP POST /: 405 from 127\.0\.0\.1")
    server.wait_log(r"HTTP GET /socket: 403 from 127\.0\.0\.1")
    nothing_reached(watcher)
    watcher.send("/msg pwned2 hello")
    watcher.expect(r"^! No such nickname: pwned2$")


def test_on_a_phone_the_rooms_and_members_slide_in(make_server: Start, open_page: Callable[..., Web]) -> None:
    server = make_server()
    server.connect("carol")
    ann = open_page(server.port, "ann", width=390, height=844)
    page = ann.page
    expect(page.locator("#rooms")).to_be_hidden()
    expect(page.locator("#members")).to_be_hidden()
    page.click("#toggle-members")
    expect(page.locator("#members")).to_be_visible()
    expect(page.locator("#toggle-members")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(page.locator("#members")).to_be_hidden()
    page.click("#toggle-rooms")
    expect(page.locator("#rooms")).to_be_visible()
    page.locator("#room-list button[data-buffer='*server*']").click()
    expect(page.locator("#rooms")).to_be_hidden()
    ann.say("/join #lobby")
    expect(page.locator("#title")).to_have_text("#lobby", timeout=WAIT)
    ann.clean()


def test_register_then_log_in_from_another_browser(make_server: Start, open_page: Callable[..., Web]) -> None:
    server = make_server()
    first = open_page(server.port, "reggie", connect=False)
    first.page.fill("#nick", "reggie")
    first.page.check("input[name=mode][value=register]")
    first.page.fill("#password", "correct-horse-battery")
    first.page.click("#connect-button")
    expect(first.page.locator("#status")).to_have_text("connected as reggie (account reggie)", timeout=WAIT)
    first.page.click("#disconnect")
    expect(first.page.locator("#connect")).to_be_visible(timeout=WAIT)

    second = open_page(server.port, "reggie", connect=False)
    second.page.fill("#nick", "reggie")
    second.page.check("input[name=mode][value=login]")
    second.page.fill("#password", "wrong password")
    second.page.click("#connect-button")
    expect(second.page.locator("#connect-error")).to_contain_text("Login failed", timeout=WAIT)
    second.page.fill("#password", "correct-horse-battery")
    second.page.click("#connect-button")
    expect(second.page.locator("#status")).to_contain_text("(account reggie)", timeout=WAIT)
    # The password was not remembered (the box was not ticked).
    stored = second.page.evaluate("localStorage.getItem('hubbub.settings')")
    assert "correct-horse" not in stored and '"nick":"reggie"' in stored
    first.clean()
    second.clean()


def test_the_phone_layout_screenshot_has_a_real_conversation(
    make_server: Start, open_page: Callable[..., Web], tmp_path: Path
) -> None:
    """The page renders (fonts, colours, day separator) at phone width: a screenshot is taken and is not
    blank. scripts/screenshots.py writes the ones in docs/."""
    server = make_server()
    carol = server.connect("carol")
    ann = open_page(server.port, "ann", width=390, height=844)
    carol.send("welcome, ann! see https://example.org/")
    ann.sees("welcome, ann! see https://example.org/")
    shot = tmp_path / "phone.png"
    ann.page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert re.search(r"\d", ann.page.locator("#log time").first.inner_text())
    ann.clean()
