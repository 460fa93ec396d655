"""Block every network address except loopback, in this process and its children.

Loaded by Python at start-up when this folder is on PYTHONPATH (tests/conftest.py
puts it there, so Jupyter kernels started by the tests load it too) and active
when DLCORE_BLOCK_NETWORK=1. Loopback stays open because Jupyter kernels talk
to their clients over 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_ALLOWED_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NetworkBlockedError(OSError):
    """Raised instead of reaching a non-loopback address during tests."""


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or host == "":
        return True  # binding to "" or passing None means local interfaces only
    host = str(host).split("%")[0]
    if host.lower() in _ALLOWED_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_address(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    try:
        ipaddress.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False


def _check(address, action: str) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        if not _is_loopback(host):
            raise NetworkBlockedError(f"network access blocked in tests: {action} to {host!r}")


def install() -> None:
    if getattr(socket, "_dlcore_guard_installed", False):
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address, "connect")
        return original_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address, "connect")
        return original_connect_ex(self, address)

    def sendto(self, data, *args):
        address = args[-1]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address, "sendto")
        return original_sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        # Address literals need no lookup; connecting to them is checked in connect().
        if not _is_loopback(host) and not _is_address(host):
            raise NetworkBlockedError(f"network access blocked in tests: name lookup of {host!r}")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.getaddrinfo = getaddrinfo
    socket._dlcore_guard_installed = True


if os.environ.get("DLCORE_BLOCK_NETWORK") == "1":
    install()
