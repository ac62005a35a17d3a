"""The web page's files, served to the browsers that ask the chat ports for them.

The files ship inside the package (``hubbub/web/static``) and are read once, when the server starts
(:func:`load_static`): a request never touches the disk, and what is served is what the package holds. Each
file's strong ETag is a hash of its content, and each answer says ``Cache-Control: no-cache``: a browser keeps
its copy and asks again each time, and an unchanged file costs a ``304 Not Modified`` with no body.

:class:`Site` is the responder (see :mod:`hubbub.protocols.http`): GET and HEAD of ``/`` give the page,
of ``/<name>`` the file of that name, anything else 404; any other method is 405, and no request, whatever
it carries, reaches the chat. The page is locked down by its Content-Security-Policy: its scripts and styles
come from its own origin only (no inline script or style at all), it connects to its own origin only (the
WebSocket back to the same host and port), and it may not be framed, change its base URL or submit a form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from ..protocols.http import Request, Response

__all__ = ["CONTENT_TYPES", "CSP", "Site", "StaticFile", "load_static"]

#: The Content-Type of each kind of file the page is made of (JavaScript modules must be text/javascript).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}

#: The page's policy: everything from its own origin ('self' covers the ws:/wss: WebSocket to the same host
#: and port), images also as data: URLs (the empty icon), nothing inline, never framed, no <base>, no forms.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

#: What every file's answer says besides its type (a 304 says it too).
_FILE_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("Cache-Control", "no-cache"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    #: A strong validator: the quoted start of the content's SHA-256.
    etag: str

    @classmethod
    def of(cls, name: str, body: bytes) -> StaticFile:
        suffix = name[name.rfind(".") :] if "." in name else ""
        content_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
        return cls(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def load_static(package: str = "hubbub.web", folder: str = "static") -> dict[str, StaticFile]:
    """Every file of the package's ``folder`` (not its subfolders), by its URL path (``/name``)."""
    files: dict[str, StaticFile] = {}
    for entry in resources.files(package).joinpath(folder).iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            files["/" + entry.name] = StaticFile.of(entry.name, entry.read_bytes())
    return files


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, as RFC 9110 says for it)."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


class Site:
    """The responder of the plain-text and TLS ports: the web page's files, read once (see the module)."""

    __slots__ = ("files",)

    def __init__(self, files: dict[str, StaticFile] | None = None) -> None:
        self.files = load_static() if files is None else files
        if "/index.html" in self.files:
            self.files.setdefault("/", self.files["/index.html"])

    def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"405 method not allowed\n", headers=(("Allow", "GET, HEAD"),))
        path = request.target.split("?", 1)[0].split("#", 1)[0]
        found = self.files.get(path)
        if found is None:
            return Response(404, b"404 not found\n")
        headers = (("ETag", found.etag), *_FILE_HEADERS)
        # A 304 and a HEAD carry no body, and say the length of the one a GET gets.
        bodiless = (("Content-Length", str(len(found.body))), *headers)
        if any(
            name.lower() == "if-none-match" and _matches(value, found.etag) for name, value in request.headers
        ):
            return Response(304, content_type=found.content_type, headers=bodiless)
        if request.method == "HEAD":
            return Response(200, content_type=found.content_type, headers=bodiless)
        return Response(200, found.body, found.content_type, headers)
