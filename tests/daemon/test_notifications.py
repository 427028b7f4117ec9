"""A save ends in a desktop notification on a real D-Bus session bus, updated in place."""

from __future__ import annotations

from tests.daemon.harness import DaemonHarness, cli, finished_run
from tests.notify.conftest import server, session_bus  # noqa: F401 - fixtures
from tests.notify.dbus_fixtures import NotificationServer, SessionBus


def test_each_save_notifies_with_the_verdict(
    daemon: DaemonHarness, session_bus: SessionBus, server: NotificationServer  # noqa: F811
) -> None:
    cli(daemon.root, "up", "--idle-after", "600", env={
        "DBUS_SESSION_BUS_ADDRESS": session_bus.address})
    with daemon.client() as client, client.events() as stream:
        assert client.request("status")["notify"] == "desktop-notifier"
        finished_run(stream)
        assert server.record.wait_for(lambda r: len(r.notifies) >= 1)
        assert server.record.notifies[0].summary.startswith("auc ")
        daemon.edit("pipeline.py", "power=gr.knob(1,", "power=gr.knob(2,")
        finished_run(stream)
    assert server.record.wait_for(lambda r: any("power" in n.body for n in r.notifies))
    last = server.record.notifies[-1]
    assert "features" in last.body and ("▲" in last.summary or "▼" in last.summary)
