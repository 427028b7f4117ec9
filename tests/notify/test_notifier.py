"""Notifier against a real private D-Bus session bus and a notification server on it, and
its fallbacks when there is no bus, no notify-send, or the bus dies."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostrun.notify import Message, Notifier, failure_message
from tests.notify.dbus_fixtures import WAIT, NotificationServer, SessionBus

MakeNotifier = Callable[..., Notifier]
FIRST = Message("auc 0.873 ▲ +0.006 · 10% sample · 1.4 s", "model: num_leaves 31→63")
SECOND = Message("auc 0.879 ▲ +0.0061 better · full data · 41 s", "model: num_leaves 31→63")
OTHER = Message("auc 0.871 ▼ -0.0080 · 10% sample · 1.3 s", "model: num_leaves 63→127")


def test_desktop_notifier_shows_title_body_and_urgency(
    server: NotificationServer, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier()
    assert notifier.backend == "desktop-notifier"
    notifier.show("save-1", FIRST)
    assert notifier.flush(WAIT)
    assert server.record.wait_for(lambda r: len(r.notifies) == 1)
    sent = server.record.notifies[0]
    assert (sent.app_name, sent.summary, sent.body) == ("ghostrun-test", FIRST.title, FIRST.body)
    assert sent.hints["urgency"] == 1
    notifier.show("failure", failure_message({"op": "model", "message": "boom"}))
    assert server.record.wait_for(lambda r: len(r.notifies) == 2)
    assert server.record.notifies[1].hints["urgency"] == 2
    assert notifier.backend == "desktop-notifier"


def test_desktop_notifier_replaces_a_keys_notification(
    server: NotificationServer, make_notifier: MakeNotifier
) -> None:
    """desktop-notifier 6 cannot send replaces_id, so the earlier one is closed first."""
    notifier = make_notifier()
    notifier.show("save-1", FIRST)
    assert notifier.flush(WAIT)
    notifier.show("save-1", SECOND)
    assert notifier.flush(WAIT)
    record = server.record
    assert record.wait_for(lambda r: len(r.notifies) == 2)
    first, second = record.notifies
    assert record.closed == [first.returned]
    assert second.summary == SECOND.title and second.returned != first.returned

    notifier.show("save-2", OTHER)
    assert notifier.flush(WAIT)
    assert record.wait_for(lambda r: len(r.notifies) == 3)
    assert record.notifies[2].summary == OTHER.title
    assert record.notifies[2].returned not in (first.returned, second.returned)
    assert record.closed == [first.returned]  # another key closes nothing


def test_update_after_the_user_dismissed_sends_a_new_one(
    server: NotificationServer, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier()
    notifier.show("save-1", FIRST)
    assert notifier.flush(WAIT)
    assert server.record.wait_for(lambda r: len(r.notifies) == 1)
    server.dismiss(server.record.notifies[0].returned)
    notifier.show("save-1", SECOND)
    assert notifier.flush(WAIT)
    assert server.record.wait_for(lambda r: len(r.notifies) == 2)
    assert server.record.notifies[1].summary == SECOND.title
    assert notifier.backend == "desktop-notifier"


def test_a_burst_for_one_key_ends_with_the_newest(
    server: NotificationServer, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier()
    titles = [f"stage {i}" for i in range(6)]
    for title in titles:
        notifier.show("save-1", Message(title, "body"))
    assert notifier.flush(WAIT)
    record = server.record
    shown = [n.returned for n in record.notifies]
    assert record.notifies[-1].summary == titles[-1]
    assert sorted(record.closed) == sorted(shown[:-1])  # only the newest is left open


def test_off_sends_nothing(server: NotificationServer, make_notifier: MakeNotifier) -> None:
    notifier = make_notifier("off")
    assert notifier.backend == "off"
    notifier.show("save-1", FIRST)
    assert notifier.flush(WAIT)
    control = make_notifier()  # a notification sent after it arrives; the off one never did
    control.show("save-1", SECOND)
    assert control.flush(WAIT)
    assert server.record.wait_for(lambda r: len(r.notifies) >= 1)
    assert [n.summary for n in server.record.notifies] == [SECOND.title]


def test_bus_without_notification_server_falls_back(
    session_bus: SessionBus, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier()
    assert notifier.backend == ("notify-send" if shutil.which("notify-send") else "log")


@pytest.mark.usefixtures("no_bus")
def test_no_bus_picks_notify_send_or_the_log_by_path(make_notifier: MakeNotifier) -> None:
    notifier = make_notifier()
    assert notifier.backend == ("notify-send" if shutil.which("notify-send") else "log")


@pytest.mark.usefixtures("no_bus")
def test_log_backend_logs_title_and_body(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_notifier: MakeNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no notify-send to find
    notifier = make_notifier()
    assert notifier.backend == "log"
    with caplog.at_level(logging.INFO, logger="tests.notify"):
        notifier.show("save-1", FIRST)
        assert notifier.flush(WAIT)
    assert f"{FIRST.title} — {FIRST.body}" in caplog.text


def test_bus_killed_midway_degrades_without_raising(
    session_bus: SessionBus,
    server: NotificationServer,
    make_notifier: MakeNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = make_notifier()
    notifier.show("save-1", FIRST)
    assert notifier.flush(WAIT)
    assert server.record.wait_for(lambda r: len(r.notifies) == 1)
    session_bus.stop()
    with caplog.at_level(logging.INFO, logger="tests.notify"):
        notifier.show("save-1", SECOND)
        notifier.show("save-2", OTHER)
        assert notifier.flush(WAIT * 2)
    assert notifier.backend == "log"  # notify-send, if any, fails too without the bus
    assert f"{SECOND.title} — {SECOND.body}" in caplog.text
    assert f"{OTHER.title} — {OTHER.body}" in caplog.text
    assert "desktop-notifier notification failed" in caplog.text


def test_notify_send_replaces_by_id(
    server: NotificationServer, make_notifier: MakeNotifier
) -> None:
    if shutil.which("notify-send") is None:
        pytest.skip("notify-send is not installed (Debian package libnotify-bin)")
    notifier = make_notifier("notify-send")
    assert notifier.backend == "notify-send"
    notifier.show("save-1", FIRST)
    notifier.show("save-2", OTHER)
    assert notifier.flush(WAIT)
    notifier.show("save-1", SECOND)
    assert notifier.flush(WAIT)
    record = server.record
    assert record.wait_for(lambda r: len(r.notifies) == 3)
    first, other, second = record.notifies
    assert (first.summary, first.body, first.app_name) == (FIRST.title, FIRST.body, "ghostrun-test")
    assert other.replaces_id == 0 and other.returned != first.returned
    assert second.summary == SECOND.title
    assert second.replaces_id == first.returned and second.returned == first.returned
    assert notifier.backend == "notify-send"


def test_unknown_mode_says_the_choices() -> None:
    with pytest.raises(ValueError, match="auto"):
        Notifier.create("loud")


def test_closed_notifier_ignores_show(
    server: NotificationServer, make_notifier: MakeNotifier
) -> None:
    notifier = make_notifier()
    notifier.close()
    notifier.show("save-1", FIRST)  # no error, nothing sent
    notifier.close()
    control = make_notifier()
    control.show("save-1", SECOND)
    assert control.flush(WAIT)
    assert server.record.wait_for(lambda r: len(r.notifies) >= 1)
    assert [n.summary for n in server.record.notifies] == [SECOND.title]
