"""Fixtures: a private D-Bus session bus, a notification server on it, a notifier to test."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator

import pytest

from ghostrun.notify import Notifier
from tests.notify.dbus_fixtures import NotificationServer, SessionBus


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionBus]:
    """A fresh dbus-daemon; DBUS_SESSION_BUS_ADDRESS points at it for the test."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip(
            "dbus-daemon is not installed (Debian package dbus-daemon; .ci/run installs it)"
        )
    bus = SessionBus()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    yield bus
    bus.stop()


@pytest.fixture
def server(session_bus: SessionBus) -> Iterator[NotificationServer]:
    served = NotificationServer(session_bus.address)
    yield served
    served.stop()


@pytest.fixture
def no_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    """No session bus to find: neither an address nor an X display to derive one from."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)


@pytest.fixture
def notify_log() -> logging.Logger:
    return logging.getLogger("tests.notify")


@pytest.fixture
def make_notifier(notify_log: logging.Logger) -> Iterator[Callable[..., Notifier]]:
    """`make_notifier(mode)`: a Notifier that is closed after the test whatever happens."""
    made: list[Notifier] = []

    def make(mode: str = "auto") -> Notifier:
        notifier = Notifier.create(mode, app_name="ghostrun-test", log=notify_log)
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.close()
