#!/usr/bin/env bash
# Install what the benchmark compares against: ngircd (Debian), miniircd and matplotlib (PyPI), a C compiler.
# An ergo binary is used when one is on PATH (Debian's package named ergo is unrelated: do not install it).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ngircd gcc util-linux >/dev/null
PY=.venv/bin/python
[ -x "$PY" ] || { python3 -m venv .venv; }
$PY -m pip install --quiet -e '.[fast,bench]'
echo "ready: $PY bench/run.py --quick   (or without --quick for the full run)"
