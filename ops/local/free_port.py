"""Print a free TCP port on 127.0.0.1, trying the preferred one first."""

import socket
import sys


def is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(preferred: int) -> int:
    """A free port: the preferred one or one of the next 199, else any (0: any at once)."""
    for port in range(preferred, preferred + 200) if preferred else ():
        if is_free(port):
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    print(free_port(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
