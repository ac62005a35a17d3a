#!/usr/bin/env python3
"""Take the web page's screenshots in docs/: a phone (390x844, light) and a desktop (1280x800, dark).

A real server on a free port, a netcat user, an IRC user and the page in headless Chromium (Debian's
chromium, driven by Playwright) have a short conversation, then the page is photographed.
Run: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from helpers import ServerProcess  # noqa: E402

WAIT = 10_000


def converse(page: Page, port: int, nick: str) -> None:
    page.goto(f"http://127.0.0.1:{port}/")
    page.fill("#nick", nick)
    page.click("#connect-button")
    expect(page.locator("#status")).to_have_text(f"connected as {nick}", timeout=WAIT)


def main() -> None:
    server = ServerProcess("--irc-port", "auto")
    try:
        dave = server.irc("dave")
        dave.send("JOIN #lobby")
        dave.expect(r" 366 dave #lobby ")
        dave.send("TOPIC #lobby :Welcome to hubbub: be kind, and say hello")
        dave.expect(r" TOPIC #lobby ")
        carol = server.connect("carol")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            phone = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="light")
            desk = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark")
            ann, ben = phone.new_page(), desk.new_page()
            converse(ann, server.port, "ann")
            converse(ben, server.port, "ben")
            carol.send("morning all! the release notes are at https://example.org/hubbub/notes")
            dave.send("PRIVMSG #lobby :\x01ACTION is reading them from irssi\x01")
            ann.fill("#input", "hi from my phone, carol")
            ann.press("#input", "Enter")
            carol.send("ann: welcome! this is netcat talking")
            ben.fill("#input", "and hello from a desktop browser")
            ben.press("#input", "Enter")
            dave.send("PRIVMSG ben :psst, the page does private conversations too")
            for page in (ann, ben):
                expect(page.locator("#log")).to_contain_text("hello from a desktop browser", timeout=WAIT)
            docs = ROOT / "docs"
            ann.screenshot(path=str(docs / "screenshot-phone.png"))
            ben.screenshot(path=str(docs / "screenshot-desktop.png"))
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
