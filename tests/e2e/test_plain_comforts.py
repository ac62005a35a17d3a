"""/set comforts for a person at a terminal, over real sockets: timestamps in a time zone, a bell on a
private message or one's name, colours; kept for an account; nobody else's output changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess

PASSWORD = "correct-horse"


def test_timestamps_in_a_time_zone(server: ServerProcess) -> None:
    utc, kolkata, plain, talker = (server.connect(n) for n in ("utc", "kolkata", "plain", "talker"))
    utc.send("/set timestamps on")
    utc.expect(r"^\* Your settings: timestamps on \(UTC\), bell off, colors off$")
    kolkata.send("/set timestamps on Asia/Kolkata")
    kolkata.expect(r"^\* Your settings: timestamps on \(Asia/Kolkata\), bell off, colors off$")
    kolkata.send("/set timestamps on Mars/Olympus")
    kolkata.expect(r"^! Unknown time zone 'Mars/Olympus'")
    talker.send("what time is it?")
    at_utc = utc.expect(r"^\[(\d\d):(\d\d)\] <talker> what time is it\?$")
    at_kolkata = kolkata.expect(r"^\[(\d\d):(\d\d)\] <talker> what time is it\?$")
    minutes = [int(found.group(1)) * 60 + int(found.group(2)) for found in (at_utc, at_kolkata)]
    assert (minutes[1] - minutes[0]) % (24 * 60) == 5 * 60 + 30
    plain.expect(r"^<talker> what time is it\?$")  # the others' lines are as they were
    utc.send("/set timestamps off")
    utc.expect(r"timestamps off")
    talker.send("again")
    utc.expect(r"^<talker> again$")


def test_a_bell_on_a_private_message_or_ones_name_only(server: ServerProcess) -> None:
    alice, bob = server.connect("alice"), server.connect("bob")
    alice.send("/set bell on")
    alice.expect(r"bell on")
    bob.send("nothing for her")
    assert alice.expect(r"<bob> nothing for her").string == "<bob> nothing for her"
    bob.send("hey Alice, look")
    assert alice.expect(r"<bob> hey Alice, look").string.endswith("\x07")
    bob.send("/msg alice psst")
    assert alice.expect(r"psst").string.endswith("\x07")
    bob.send("malice is not her name")
    assert not alice.expect(r"malice").string.endswith("\x07")


def test_colors_set_nicknames_notices_and_errors_apart(server: ServerProcess) -> None:
    alice, bob = server.connect("alice"), server.connect("bob")
    alice.send("/set colors on")
    assert alice.expect(r"colors on").string.startswith("\x1b[2m* Your settings")
    bob.send("colourful")
    assert re.fullmatch(r"\x1b\[\d+m<bob>\x1b\[0m colourful", alice.expect(r"colourful").string)
    alice.send("/nosuchcommand")
    assert alice.expect(r"nosuchcommand").string.startswith("\x1b[31m! ")
    alice.send("hello bob")
    assert bob.expect(r"hello bob").string == "<alice> hello bob"  # nobody else's output changes


def test_comforts_are_kept_for_an_account(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = make_server("--db", str(tmp_path / "db.sqlite3"))
    carol = server.connect("carol")
    carol.send(f"/register {PASSWORD}")
    carol.expect(r"^\* You registered the account carol")
    carol.send("/set timestamps on Europe/Paris")
    carol.expect(
        r"^\* Your settings: timestamps on \(Europe/Paris\), bell off, colors off \(kept for carol\)$"
    )
    carol.send("/set bell on")
    carol.expect(r"bell on")
    carol.close()
    again = Client(server.port)
    server.clients.append(again)
    again.send(f"/login carol {PASSWORD}")
    again.expect(r"^\* You are logged in as carol$")
    again.send("/set")
    again.expect(r"^\* Your settings: timestamps on \(Europe/Paris\), bell on, colors off$")
