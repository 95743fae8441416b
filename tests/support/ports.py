"""Loopback ports nobody listens on, several at once (each held until all are picked, so no two
are the same): for servers a test starts, and for addresses that must refuse."""

import socket


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports
