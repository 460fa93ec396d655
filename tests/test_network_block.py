"""The tests run offline: prove that the network guard blocks and loopback works."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest


def test_connect_to_a_public_address_is_blocked_in_process():
    with pytest.raises(OSError, match="network access blocked in tests: connect to '192.0.2.1'"):
        socket.create_connection(("192.0.2.1", 80), timeout=5)


def test_name_lookup_is_blocked_in_process():
    with pytest.raises(OSError, match="name lookup of 'pypi.org'"):
        socket.getaddrinfo("pypi.org", 443)


def test_udp_send_to_a_public_address_is_blocked():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(OSError, match="sendto to '8.8.8.8'"):
            udp.sendto(b"x", ("8.8.8.8", 53))


def test_block_reaches_child_processes_such_as_kernels():
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('198.51.100.7', 443), timeout=5)\n"
        "except OSError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "NetworkBlockedError network access blocked in tests" in result.stdout, result.stdout + result.stderr


def test_loopback_still_works():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer():
        connection, _ = server.accept()
        with connection:
            connection.sendall(b"pong")

    thread = threading.Thread(target=answer)
    thread.start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        assert client.recv(4) == b"pong"
    thread.join(timeout=5)
    server.close()
