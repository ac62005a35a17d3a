"""The server's settings: one frozen snapshot, and the one declaration of every option.

Each field of :class:`Config` carries an :class:`Option` (in its metadata) that says how its value is read,
which section of the configuration file holds it, its command-line flag and help, and whether a reload can
change it on a running server. The command line (``cli.py``) and the TOML file (``settings.py``) are both
generated from these declarations, so they cannot drift apart.

``kinds``: the kinds of values (how text and TOML values are read and checked); ``fields``: the sections, the
options and the :class:`Config` that declares them.
"""

from __future__ import annotations

from .fields import SECTIONS, Config, ConfigError, Option, options
from .kinds import Flag, Kind, OptionError

__all__ = [
    "SECTIONS",
    "Config",
    "ConfigError",
    "Flag",
    "Kind",
    "Option",
    "OptionError",
    "options",
]
