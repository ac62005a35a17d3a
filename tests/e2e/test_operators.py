"""End-to-end: server operators on a real server. OPER with a scrypt-hashed password (checked on a worker
thread), KLINE disconnecting and refusing IRC and plain-text users, UNKLINE, K-lines kept across a restart,
the plain-text operator commands, and REHASH of a configuration file. Every client is on 127.0.0.1, so the
K-lines here tell users apart by nickname or user name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess
from hubbub.store.passwords import hash_password

IRC = ("--irc-port", "auto")
PASSWORD = "correct horse battery"


def oper_args() -> tuple[str, ...]:
    return ("--oper", f"admin:{hash_password(PASSWORD)}", "--oper", "plainop:clear-text-pw")


def become_oper(client: Client) -> None:
    client.send(f"OPER admin :{PASSWORD}")
    client.expect(rf" 381 {client.nick} :You are now an IRC operator")


def refused_irc(server: ServerProcess, nick: str) -> list[str]:
    client = Client(server.irc_port)
    server.clients.append(client)
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick}")
    return client.wait_eof()


def test_oper_kline_and_unkline_over_irc(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*IRC, *oper_args())
    op = server.irc("op")
    op.send("OPER admin :not the password")
    op.expect(r" 464 op :Password incorrect")
    become_oper(op)
    server.wait_log(r"OPER: op!~op@127\.0\.0\.1 is now operator admin")
    assert not server.find_log(re.escape(PASSWORD)) and not server.find_log("not the password")

    spammer = server.irc("spammer")
    watcher = server.connect("watcher")
    spammer.send("JOIN #lobby")
    watcher.expect(r"^\* spammer joined #lobby")
    op.send("KLINE 5 ~spammer@127.0.0.1 :spamming | caught in #lobby")
    op.expect(r"NOTICE op :op added a K-line for 5m on ~spammer@127\.0\.0\.1: .* \(disconnected: spammer\)$")
    assert spammer.wait_eof()[-1] == "ERROR :Closing Link: 127.0.0.1 (K-Lined: spamming)"
    watcher.expect(r"^\* spammer left \(K-Lined\)$")
    server.wait_log(r"KLINE: op!~op@127\.0\.0\.1 banned ~spammer@127\.0\.0\.1 for 5m")

    assert refused_irc(server, "spammer") == [
        ":hubbub 465 spammer :You are banned from this server (spamming)",
        "ERROR :Closing Link: 127.0.0.1 (K-Lined: spamming)",
    ]
    server.irc("innocent")  # another user name: let in

    # A K-line on the plain-text user name: the plain-text users are disconnected, and refused.
    op.send("KLINE 1 plain@127.0.0.1 :no netcat today")
    op.expect(r"NOTICE op :op added a K-line for 1m on plain@127\.0\.0\.1")
    assert watcher.wait_eof()[-1] == "! You were disconnected (K-Lined: no netcat today)"
    late = Client(server.port)
    server.clients.append(late)
    assert late.wait_eof() == ["! You are banned from this server (no netcat today)"]

    op.send("KLINE LIST")
    op.expect(r"NOTICE op :There are 2 K-lines$")
    op.send("STATS k")
    op.expect(r" 216 op K 127\.0\.0\.1 \* ~spammer :spamming$")
    op.expect(r" 219 op k :End of /STATS report$")
    op.send("UNKLINE plain@127.0.0.1")
    op.expect(r"NOTICE op :op removed the K-line on plain@127\.0\.0\.1$")
    server.connect("back")


def test_klines_survive_a_restart(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    db = str(tmp_path / "hub.db")
    first = make_server(*IRC, *oper_args(), "--db", db)
    op = first.irc("op")
    become_oper(op)
    op.send("KLINE ~banned@* :for good")
    op.expect(r"NOTICE op :op added a K-line permanently on ~banned@\*: for good$")
    first.clients.remove(op)
    op.close()
    assert first.stop() == 0

    second = make_server(*IRC, "--db", db)
    assert (
        refused_irc(second, "banned")[0] == ":hubbub 465 banned :You are banned from this server (for good)"
    )
    second.irc("welcomed")


def test_plain_text_operator_commands(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*IRC, *oper_args())
    chief = server.connect("chief")  # first in #lobby: its operator
    pest = server.connect("pest")
    chief.expect(r"^\* \S+ is now known as pest$")
    chief.send("/kick pest behave")
    chief.expect(r"^\* You kicked pest from #lobby \(behave\)$")
    pest.expect(r"^\* You were kicked from #lobby by chief \(behave\)$")
    chief.send("/ban pest")
    chief.expect(r"^\* Banned pest!\*@\* on #lobby$")
    pest.send("/join #lobby")
    pest.expect(r"^! You are banned from #lobby$")

    chief.send("/kill pest")
    chief.expect(r"^! You are not a server operator")
    chief.send("/oper plainop wrong")
    chief.expect(r"^! OPER failed: wrong name or password$")
    chief.send("/oper plainop clear-text-pw")
    chief.expect(r"^\* You are now a server operator \(plainop\)")
    irc_user = server.irc("ircuser")
    # A nickname stands for its host: 127.0.0.1, the operator's too, so the K-line is refused.
    chief.send("/kline 10 ircuser flooding")
    chief.expect(r"^! The K-line \*@127\.0\.0\.1 would match you")
    chief.send("/kline 10 ~ircuser@* flooding")
    chief.expect(r"^\* chief added a K-line for 10m on ~ircuser@\*: flooding \(disconnected: ircuser\)$")
    assert irc_user.wait_eof()[-1] == "ERROR :Closing Link: 127.0.0.1 (K-Lined: flooding)"
    chief.send("/wallops all good")
    chief.expect(r"^\* Wallops from chief: all good$")
    chief.send("/kill pest go home")
    chief.expect(r"^\* You disconnected pest \(go home\)$")
    assert pest.wait_eof()[-1] == "! You were disconnected (Killed by chief (go home))"


def test_rehash(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f"[opers]\nadmin = {json.dumps(hash_password(PASSWORD))}\n", encoding="utf-8")
    server = make_server(*IRC, "--config", str(config))
    op = server.irc("op")
    op.send("REHASH")
    op.expect(r" 481 op :Permission Denied")
    become_oper(op)
    config.write_text(
        f'[chat]\nnetwork = "Renamed"\n[opers]\nadmin = {json.dumps(hash_password(PASSWORD))}\n'
        '"new-op" = "clear-pw"\n',
        encoding="utf-8",
    )
    op.send("REHASH")
    op.expect(r" 382 op config :Rehashing$")
    op.expect(r"NOTICE op :configuration reloaded: changed .*network")
    # The reloaded operators work for plain-text users too (one shared table).
    plain = server.connect("newop")
    plain.send("/oper new-op clear-pw")
    plain.expect(r"^\* You are now a server operator \(new-op\)")
    config.write_text("[chat]\nnetwork = \n", encoding="utf-8")
    op.send("REHASH")
    op.expect(r"NOTICE op :REHASH failed: configuration not reloaded")
