"""/set comforts in memory: what each does to a rendered line, and that none of them changes anyone else's."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hubbub.core.hub import Hub
from hubbub.protocols.plain.comforts import Comforts

from .irc_harness import PlainClient


def test_off_by_default_and_nothing_changes() -> None:
    comforts = Comforts()
    assert not comforts
    assert comforts.notice(b"* hi\r\n") == b"* hi\r\n" and comforts.error(b"! no\r\n") == b"! no\r\n"


def test_each_comfort_in_a_line() -> None:
    hub = Hub()
    alice, bob = PlainClient(hub), PlainClient(hub)
    alice.send("/nick alice")
    bob.send("/nick bob")
    alice.take()
    alice.session.comforts.zone = ZoneInfo("Asia/Kolkata")
    alice.session.comforts_changed()
    bob.send("hello")
    (line,) = alice.take()
    assert line.endswith("] <bob> hello") and line.startswith("[")
    alice.session.comforts.zone = None
    alice.session.comforts.bell = True
    bob.send("ALICE, look")
    assert alice.take() == ["<bob> ALICE, look\x07"]
    bob.send("malice aforethought")
    assert alice.take() == ["<bob> malice aforethought"]
    alice.session.comforts.bell = False
    alice.session.comforts.colors = True
    bob.send("in colour")
    (coloured,) = alice.take()
    assert coloured.startswith("\x1b[") and coloured.endswith("<bob>\x1b[0m in colour")
    assert bob.send("/who")[0].startswith("* 2 in #lobby")  # bob's own output is untouched
    carol = PlainClient(hub)
    alice.take()
    carol.send("/nick carol")
    carol.send("plain as ever")
    assert bob.take()[-1] == "<carol> plain as ever"
