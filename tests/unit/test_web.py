"""The web page's responder, in memory: which file each request gets, with which headers, and that nothing
but GET and HEAD is served."""

from __future__ import annotations

import hashlib

import pytest

from hubbub.protocols.http import HttpSession, Request, Response
from hubbub.web.site import CSP, Site, StaticFile, load_static

from .irc_harness import MemoryLink


def get(site: Site, target: str, method: str = "GET", **headers: str) -> Response:
    return site(Request(method, target, tuple((k.replace("_", "-"), v) for k, v in headers.items())))


def header(response: Response, name: str) -> str | None:
    found = [value for key, value in response.headers if key.lower() == name.lower()]
    return found[0] if found else None


@pytest.fixture(scope="module")
def site() -> Site:
    return Site()


def test_the_package_ships_the_page_and_its_modules() -> None:
    files = load_static()
    for name in ("/index.html", "/style.css", "/app.js", "/irc.js", "/state.js", "/ui.js", "/client.js"):
        assert name in files, sorted(files)
    assert files["/app.js"].content_type == "text/javascript; charset=utf-8"
    assert files["/style.css"].content_type == "text/css; charset=utf-8"
    assert files["/index.html"].content_type == "text/html; charset=utf-8"


def test_the_root_is_the_page_and_each_file_is_at_its_name(site: Site) -> None:
    page = get(site, "/")
    assert page.status == 200
    assert page.body == site.files["/index.html"].body
    assert b'<script type="module" src="/app.js">' in page.body
    assert get(site, "/index.html").body == page.body
    assert get(site, "/irc.js?v=1").body == site.files["/irc.js"].body
    for missing in ("/nope.js", "/static/app.js", "/../pyproject.toml", "/%2e%2e/site.py", "//app.js", "*"):
        assert get(site, missing).status == 404, missing


def test_each_file_has_a_strong_etag_from_its_content_and_is_revalidated(site: Site) -> None:
    response = get(site, "/app.js")
    etag = header(response, "ETag")
    body = site.files["/app.js"].body
    assert etag == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    assert header(response, "Cache-Control") == "no-cache"
    assert header(get(site, "/ui.js"), "ETag") != etag


@pytest.mark.parametrize("sent", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_gets_304_without_a_body(site: Site, sent: str) -> None:
    etag = site.files["/style.css"].etag
    response = get(site, "/style.css", If_None_Match=sent.format(etag=etag))
    assert response.status == 304 and response.body == b""
    assert header(response, "ETag") == etag
    assert header(response, "Content-Length") == str(len(site.files["/style.css"].body))


def test_a_stale_etag_gets_the_file(site: Site) -> None:
    response = get(site, "/style.css", If_None_Match='"0123"')
    assert response.status == 200 and response.body == site.files["/style.css"].body


def test_head_gets_the_headers_and_the_length_but_no_body(site: Site) -> None:
    response = get(site, "/", "HEAD")
    assert response.status == 200 and response.body == b""
    assert header(response, "Content-Length") == str(len(site.files["/index.html"].body))
    assert response.content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"])
def test_other_methods_are_405_and_say_what_is_allowed(site: Site, method: str) -> None:
    response = get(site, "/", method)
    assert response.status == 405
    assert header(response, "Allow") == "GET, HEAD"


def test_the_page_is_locked_down_by_its_headers(site: Site) -> None:
    response = get(site, "/")
    assert header(response, "Content-Security-Policy") == CSP
    for directive in (
        "default-src 'self'",
        "connect-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ):
        assert directive in CSP
    assert "unsafe" not in CSP
    assert header(response, "X-Content-Type-Options") == "nosniff"
    assert header(response, "Referrer-Policy") == "no-referrer"


def test_the_page_has_no_inline_script_or_style(site: Site) -> None:
    page = site.files["/index.html"].body.decode()
    assert "<style" not in page and " style=" not in page and "javascript:" not in page
    assert page.count("<script") == page.count('<script type="module" src=')
    for name, found in site.files.items():
        if name.endswith(".js"):
            assert b"innerHTML" not in found.body and b"eval(" not in found.body, name


def test_the_answer_on_the_wire_replaces_the_default_headers() -> None:
    files = {"/index.html": StaticFile.of("index.html", b"<!doctype html><p>hi</p>")}
    link = MemoryLink()
    HttpSession(link, Site(files)).data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = link.data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    names = [line.split(b":", 1)[0].lower() for line in lines[1:]]
    assert len(names) == len(set(names)), names  # each header once: the page's own replaced the defaults
    assert b"Content-Type: text/html; charset=utf-8" in lines
    assert f"Content-Security-Policy: {CSP}".encode() in lines
    assert b"Cache-Control: no-cache" in lines and b"Connection: close" not in lines  # kept alive
    assert body == b"<!doctype html><p>hi</p>"
    assert link.closed is None


def test_a_304_on_the_wire_has_no_body() -> None:
    files = {"/a.css": StaticFile.of("a.css", b"p { color: red }")}
    etag = files["/a.css"].etag
    link = MemoryLink()
    request = f"GET /a.css HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n".encode()
    HttpSession(link, Site(files)).data_received(request)
    assert link.data.startswith(b"HTTP/1.1 304 Not Modified\r\n")
    assert link.data.endswith(b"\r\n\r\n")
    assert f"ETag: {etag}".encode() in link.data


def test_an_unknown_extension_is_served_as_bytes() -> None:
    assert StaticFile.of("LICENSE", b"x").content_type == "application/octet-stream"
    assert StaticFile.of("a.svg", b"<svg/>").content_type == "image/svg+xml"
