"""sd_notify over a real unix datagram socket, as systemd receives it."""

from __future__ import annotations

import os
import socket

from fer_edge.runtime.systemd import SystemdNotifier


def test_ready_watchdog_and_stopping_reach_the_socket(tmp_path):
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(2)
    try:
        n = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())})
        assert n.enabled and n.interval_s == 1.0
        n.ready("processing")
        n.watchdog()
        n.watchdog()  # within half the period: not sent again
        n.stopping()
        got = [server.recv(256).decode() for _ in range(3)]
        assert got == ["READY=1\nSTATUS=processing", "WATCHDOG=1", "STOPPING=1"]
        n.close()
    finally:
        server.close()


def test_outside_systemd_nothing_is_sent():
    n = SystemdNotifier({})
    assert not n.enabled and n.interval_s is None
    assert n.notify("READY=1") is False
    n.watchdog()
    other = SystemdNotifier({"NOTIFY_SOCKET": "/nonexistent/sock", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"})
    assert other.interval_s is None  # the watchdog is for another process
    assert other.notify("READY=1") is False  # a socket that is not there is not an error
