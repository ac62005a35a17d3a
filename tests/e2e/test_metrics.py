"""End-to-end: the Prometheus endpoint (--metrics-port), scraped over HTTP while people chat."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from helpers import TIMEOUT, Client, ServerProcess

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families

Start = Callable[..., ServerProcess]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metrics_url(server: ServerProcess) -> str:
    found = server.wait_log(r"metrics on (http://127\.0\.0\.1:\d+/metrics)")
    return found.group(1)


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, tuple(sorted(labels.items()))]


def plain(server: ServerProcess, nick: str) -> Client:
    client = server.connect(nick)
    client.nick = nick
    return client


def test_the_counters_move_with_the_chat(make_server: Start) -> None:
    server = make_server("--metrics-port", "0", "--irc-port", "auto")
    url = metrics_url(server)
    before = scrape(url)
    assert value(before, "hubbub_clients", protocol="plain") == 0
    assert value(before, "hubbub_messages_in_total") == 0
    for name in ("hubbub_sendq_drops_total", "hubbub_flood_kills_total"):
        assert value(before, name) == 0
    for reason in ("full", "address", "network", "rate"):
        assert value(before, "hubbub_limit_refusals_total", reason=reason) == 0
    assert ("hubbub_loop_lag_seconds_count", ()) in before
    assert ("hubbub_loop_lag_seconds_bucket", (("le", "+Inf"),)) in before

    alice = plain(server, "alice")
    bob = plain(server, "bob")
    carol = server.irc("carol")
    carol.send("JOIN #lobby")
    alice.expect(r"^\* carol joined #lobby$")
    for i in range(3):
        alice.send(f"hello {i}")
    for i in range(3):
        bob.expect(rf"^<alice> hello {i}$")
        carol.expect(rf"^:alice!\S+ PRIVMSG #lobby :hello {i}$")
    carol.send("PRIVMSG bob :psst")
    bob.expect(r"^\*carol\* psst$")

    after = scrape(url)
    assert value(after, "hubbub_clients", protocol="plain") == 2
    assert value(after, "hubbub_clients", protocol="irc") == 1
    assert value(after, "hubbub_users") == 3
    assert value(after, "hubbub_rooms") == 1
    assert value(after, "hubbub_messages_in_total") == 4  # three to the room, one private
    assert value(after, "hubbub_messages_out_total") == 3 * 2 + 1
    assert value(after, "hubbub_history_writes_total") == 4
    assert value(after, "hubbub_bytes_in_total") > value(before, "hubbub_bytes_in_total")
    assert value(after, "hubbub_bytes_out_total") > value(before, "hubbub_bytes_out_total")


def test_refusals_and_flood_kills_are_counted(make_server: Start) -> None:
    server = make_server(
        "--metrics-port",
        "0",
        "--limit-exempt",
        "none",
        "--max-per-ip",
        "2",
        "--flood-lines",
        "5",
        "--flood-burst",
        "5",
        "--flood-kill",
        "1",
        "--flood-paste",
        "0",  # a plain-text paste gets no allowance here: flooding is flooding
    )
    url = metrics_url(server)
    watcher = plain(server, "watcher")
    flooder = plain(server, "flooder")
    refused = Client(server.port)
    server.clients.append(refused)
    assert refused.wait_eof() == ["ERROR :Closing Link: 127.0.0.1 (Too many connections from your address)"]
    flooder.send_raw(b"".join(f"flood {i}\n".encode() for i in range(200)))
    assert flooder.wait_eof()[-1:] == ["! You were disconnected for flooding (more than 5 lines a second)"]
    watcher.expect(r"^\* flooder left \(Excess Flood\)$")
    samples = scrape(url)
    assert value(samples, "hubbub_limit_refusals_total", reason="address") == 1
    assert value(samples, "hubbub_flood_kills_total") == 1
    assert value(samples, "hubbub_clients", protocol="plain") == 1


def test_only_metrics_is_served(make_server: Start) -> None:
    server = make_server("--metrics-port", "0")
    url = metrics_url(server)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url.replace("/metrics", "/other"), timeout=TIMEOUT)
    assert info.value.code == 404
    request = urllib.request.Request(url, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=TIMEOUT)
    assert info.value.code == 405
    assert value(scrape(url + "?x=1"), "hubbub_rooms") == 0


HIDE_PROMETHEUS = "import sys; sys.modules['prometheus_client'] = None; "


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        env=env,
        check=False,
    )


def test_the_server_needs_prometheus_client_only_for_metrics() -> None:
    # Nothing but the endpoint imports it...
    done = run_python("import sys, hubbub.cli, hubbub.app; print('prometheus_client' in sys.modules)")
    assert done.stdout.strip() == "False", done.stderr
    # ...and a server asked for metrics without it says what to install, and exits.
    done = run_python(
        HIDE_PROMETHEUS
        + "from hubbub.cli import main; sys.exit(main(['serve', '--host', '127.0.0.1', '--port', '0',"
        " '--irc-port', '0', '--db', ':memory:', '--metrics-port', '0']))"
    )
    assert done.returncode == 1, done.stderr
    # the hint works from a checkout (hubbub is not installed from an index there)
    assert re.search(
        r"--metrics-port needs prometheus-client, which is not installed: from a checkout, scripts/serve"
        r" installs it \(or \.venv/bin/pip install -e '\.\[metrics\]'\); otherwise pip install"
        r" prometheus-client",
        done.stderr,
    )
