"""Native desktop notifications through desktop-notifier (D-Bus on Linux, the system's own
notification centre on macOS and Windows).

desktop-notifier 6 hides the D-Bus notification id and always sends `replaces_id = 0`, so
a save's earlier notification is replaced by withdrawing it (`clear`) and sending the new
one. It also swallows delivery errors (it logs them); a notification it did not deliver is
missing from `get_current_notifications()`, which is how a failure is noticed here.
"""

from __future__ import annotations

import asyncio
import logging

from ghostrun.notify.backends import DeliveryError, remember
from ghostrun.notify.message import Message

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"

_log = logging.getLogger(__name__)


async def desktop_usable(timeout: float = 2.0) -> bool:
    """Whether desktop-notifier can show anything here: on Linux a session bus must be
    reachable and a notification server must answer on it (within `timeout`); elsewhere
    the platform must have a real backend rather than desktop-notifier's silent dummy."""
    try:
        from desktop_notifier.main import get_backend_class
    except ImportError:
        return False
    backend = get_backend_class().__name__
    if backend == "DBusDesktopNotifier":
        return await notification_server_answers(timeout)
    return backend != "DummyNotificationCenter"


async def notification_server_answers(timeout: float = 2.0) -> bool:
    """Ask the session bus's notification server for its information, bounded by `timeout`
    (a bus address that is unset, points nowhere or never answers gives False)."""
    try:
        from dbus_fast import Message as DBusMessage
        from dbus_fast import MessageType
        from dbus_fast.aio import MessageBus
    except ImportError:
        return False
    try:
        bus = MessageBus()  # the session bus, resolved exactly as desktop-notifier will
    except Exception as exc:  # any unusable address means "no bus"
        _log.debug("no D-Bus session bus: %s", exc)
        return False
    ask = DBusMessage(
        destination=NOTIFICATIONS, path=NOTIFICATIONS_PATH, interface=NOTIFICATIONS,
        member="GetServerInformation",
    )
    try:
        await asyncio.wait_for(bus.connect(), timeout)
        reply = await asyncio.wait_for(bus.call(ask), timeout)
    except Exception as exc:  # refused, vanished, timed out: all "no server"
        _log.debug("no notification server on the session bus: %r", exc)
        return False
    finally:
        bus.disconnect()
    return reply.message_type == MessageType.METHOD_RETURN


class DesktopBackend:
    """desktop-notifier's async API, run on the notifier's event loop."""

    name = "desktop-notifier"

    def __init__(self, app_name: str) -> None:
        from desktop_notifier import DesktopNotifier

        self._notifier = DesktopNotifier(app_name=app_name, app_icon=None)
        self._shown: dict[str, str] = {}  # key → desktop-notifier identifier

    async def show(self, key: str, message: Message) -> None:
        from desktop_notifier import Notification, Urgency

        previous = self._shown.pop(key, None)
        if previous is not None:
            await self._withdraw(previous)
        urgency = {"low": Urgency.Low, "critical": Urgency.Critical}.get(
            message.urgency, Urgency.Normal
        )
        notification = Notification(title=message.title, message=message.body, urgency=urgency)
        identifier = await self._notifier.send_notification(notification)
        if identifier not in await self._notifier.get_current_notifications():
            raise DeliveryError("the notification server did not accept the notification")
        remember(self._shown, key, identifier)

    async def _withdraw(self, identifier: str) -> None:
        """Close a notification that is still shown; one the user dismissed is left alone."""
        if identifier not in await self._notifier.get_current_notifications():
            return
        try:
            await self._notifier.clear(identifier)
        except Exception as exc:  # a lost bus shows up in the send after this
            _log.debug("could not withdraw notification %s: %r", identifier, exc)

    async def close(self) -> None:
        # desktop-notifier has no public way to close its D-Bus connection; without this
        # the socket stays open until garbage collection.
        bus = getattr(getattr(self._notifier, "_backend", None), "bus", None)
        if bus is not None:
            bus.disconnect()
