"""The built-in web page: a chat client in plain HTML, CSS and JavaScript modules, served on the chat ports,
that speaks IRC over the server's WebSocket (see :mod:`hubbub.web.site`)."""

from .site import Site, StaticFile, load_static

__all__ = ["Site", "StaticFile", "load_static"]
