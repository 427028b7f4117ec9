"""A real private D-Bus session bus and a small notification server on it.

The bus is a `dbus-daemon` process of its own, like `dbus-daemon --session` but with a
minimal session config of its own (`--session` and `--config-file` exclude each other): no
service directories, so a notification daemon installed on the machine can never be
activated and answer in place of the test's server. The server records every call it gets.
"""

from __future__ import annotations

import asyncio
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusInt32, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
WAIT = 20.0  # generous bound on every wait: machines are noisy

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

StrList = Annotated[list[str], DBusSignature("as")]
Hints = Annotated[dict[str, Variant], DBusSignature("a{sv}")]
ServerInfo = Annotated[list[str], DBusSignature("ssss")]
ClosedSignal = Annotated[list[int], DBusSignature("uu")]
ActionSignal = Annotated[list[Any], DBusSignature("us")]


class SessionBus:
    """A running `dbus-daemon`; `address` is what DBUS_SESSION_BUS_ADDRESS should hold."""

    def __init__(self) -> None:
        program = shutil.which("dbus-daemon")
        if program is None:
            raise FileNotFoundError("dbus-daemon")
        self._dir = Path(tempfile.mkdtemp(prefix="gr-bus-"))
        config = self._dir / "session.conf"
        config.write_text(_CONFIG.format(socket=self._dir / "bus"))
        self.process = subprocess.Popen(
            [program, f"--config-file={config}", "--nofork", "--print-address"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], WAIT)
        line = self.process.stdout.readline().strip() if ready and self.process.stdout else ""
        if not line:
            self.stop()
            raise RuntimeError(f"dbus-daemon printed no address within {WAIT:.0f} s")
        self.address = line

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(WAIT)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass
class Notify:
    app_name: str
    replaces_id: int
    summary: str
    body: str
    hints: dict[str, Any]
    returned: int


@dataclass
class Record:
    """What the server was asked, guarded by `changed` (the server runs on its own thread)."""

    notifies: list[Notify] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, check: Callable[[Record], bool], timeout: float = WAIT) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: check(self), timeout)


class NotificationService(ServiceInterface):
    """The org.freedesktop.Notifications interface, as far as a client can tell."""

    def __init__(self, record: Record) -> None:
        super().__init__(NAME)
        self.record = record
        self._last_id = 0

    @dbus_method()
    def Notify(  # noqa: N802 - D-Bus member names
        self, app_name: DBusStr, replaces_id: DBusUInt32, app_icon: DBusStr, summary: DBusStr,
        body: DBusStr, actions: StrList, hints: Hints, expire_timeout: DBusInt32,
    ) -> DBusUInt32:
        if replaces_id:
            returned = replaces_id
        else:
            self._last_id += 1
            returned = self._last_id
        values = {k: v.value for k, v in hints.items()}
        with self.record.changed:
            self.record.notifies.append(
                Notify(app_name, replaces_id, summary, body, values, returned)
            )
            self.record.changed.notify_all()
        return returned

    @dbus_method()
    def CloseNotification(self, notification_id: DBusUInt32):  # noqa: N802 - returns nothing
        with self.record.changed:
            self.record.closed.append(notification_id)
            self.record.changed.notify_all()
        self.NotificationClosed(notification_id, 3)

    @dbus_method()
    def GetCapabilities(self) -> StrList:  # noqa: N802
        return ["body", "actions"]

    @dbus_method()
    def GetServerInformation(self) -> ServerInfo:  # noqa: N802
        return ["ghostrun-test-server", "ghostrun", "1.0", "1.2"]

    @dbus_signal()
    def NotificationClosed(self, notification_id: int, reason: int) -> ClosedSignal:  # noqa: N802
        return [notification_id, reason]

    @dbus_signal()
    def ActionInvoked(self, notification_id: int, action_key: str) -> ActionSignal:  # noqa: N802
        return [notification_id, action_key]


class NotificationServer:
    """The service on its own thread and event loop, connected to `address`."""

    def __init__(self, address: str) -> None:
        self.record = Record()
        self._service = NotificationService(self.record)
        self._address = address
        self._loop = asyncio.new_event_loop()
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-notify-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(WAIT) or self._error is not None:
            raise RuntimeError(f"notification server did not start: {self._error!r}")

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # the bus may be killed under us in a test
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def dismiss(self, notification_id: int) -> None:
        """Act as the user closing a notification (NotificationClosed, reason 2)."""
        self._loop.call_soon_threadsafe(self._service.NotificationClosed, notification_id, 2)

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        bus = await MessageBus(bus_address=self._address).connect()
        bus.export(PATH, self._service)
        await bus.request_name(NAME)
        self._ready.set()
        gone = asyncio.ensure_future(bus.wait_for_disconnect())
        stop = asyncio.ensure_future(self._stopped.wait())
        await asyncio.wait({gone, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in (gone, stop):
            task.cancel()
        await asyncio.gather(gone, stop, return_exceptions=True)
        bus.disconnect()

    def stop(self) -> None:
        if self._thread.is_alive() and self._stopped is not None:
            try:
                self._loop.call_soon_threadsafe(self._stopped.set)
            except RuntimeError:  # the loop already ended with the bus
                pass
        self._thread.join(WAIT)
