"""systemd's notify protocol without a dependency: ``READY=1``, ``WATCHDOG=1`` and ``STOPPING=1`` datagrams
to ``$NOTIFY_SOCKET`` (sd_notify(3)). Outside systemd (no ``NOTIFY_SOCKET``) every call is a no-op.

With ``WatchdogSec=`` in the unit, systemd sets ``WATCHDOG_USEC`` and restarts the service when no
``WATCHDOG=1`` arrives in time; the camera loop pings once per iteration, at most every half period, so a
hung loop (not a slow camera, whose reconnect loop keeps iterating) is restarted.
"""

from __future__ import annotations

import os
import socket
import time


class SystemdNotifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if address.startswith("@"):  # abstract namespace
            self.address = "\0" + address[1:]
        elif address.startswith("/"):
            self.address = address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watchdog_for_us = usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid()))
        self.interval_s: float | None = int(usec) / 2e6 if watchdog_for_us else None
        self._last_ping = 0.0
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, state: str) -> bool:
        """Send one state string; False when not under systemd or when the socket refused it."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.sendto(state.encode(), self.address)
            return True
        except OSError:
            return False

    def ready(self, status: str = "") -> None:
        self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> None:
        """``WATCHDOG=1``, at most every half of the watchdog period."""
        if self.interval_s is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.interval_s:
            self._last_ping = now
            self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
