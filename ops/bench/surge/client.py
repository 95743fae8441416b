"""A small asyncio HTTP/1.1 client with keep-alive connections (standard library only: the bench
adds no dependency, and a few hundred requests a second cost less here than in a general client)."""

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode


class HttpError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One response: status and body (Content-Length or chunked)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    status = int(head.split(" ", 2)[1])
    if "transfer-encoding: chunked" in head:
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
        return status, body
    length = next((int(line[15:]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)
    return status, await reader.readexactly(length)


class Pool:
    """Keep-alive connections to one host:port, at most `size` at once (the rest wait)."""

    def __init__(self, host: str, port: int, size: int = 64, timeout: float = 30) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(size)

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, float]:
        """Status, body and the seconds from sending to the whole answer (waiting for a free
        connection is not counted: a browser has its own)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        async with self.slots:
            conn = self.idle.pop() if self.idle else None
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
                    started = time.perf_counter()
                reader, writer = conn
                writer.write(data)
                status, answer = await asyncio.wait_for(read_response(reader), self.timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                if conn is not None:
                    conn[1].close()
                raise HttpError(f"{method} {path}: {type(exc).__name__} {exc}"[:300]) from exc
            took = time.perf_counter() - started
            self.idle.append(conn)
            return status, answer, took

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


class Session:
    """One signed-in person's requests: their session cookie, a CSRF token of our own (Django
    takes any 32-character secret as the cookie when the header repeats it), JSON in and out."""

    def __init__(self, pool: Pool, session_key: str, csrf: str) -> None:
        self.pool = pool
        origin = f"http://{pool.host}:{pool.port}"
        self.headers = {
            "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Origin": origin,
            "Referer": origin + "/",
            "Accept": "application/json",
        }

    async def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any, float]:
        if params:
            path += "?" + urlencode(params)
        status, body, took = await self.pool.request("GET", path, headers=self.headers)
        return status, parse(body), took

    async def post(
        self, path: str, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, float]:
        data = json.dumps(payload or {}).encode()
        all_headers = {**self.headers, "Content-Type": "application/json", **(headers or {})}
        status, body, took = await self.pool.request("POST", path, body=data, headers=all_headers)
        return status, parse(body), took


def parse(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return {"raw": body[:200].decode("utf-8", "replace")}
