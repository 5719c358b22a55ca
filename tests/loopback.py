"""Loopback servers in background threads: the plumbing the wire-format servers share
(``LoopbackServer``), ``Serving`` to start several and stop them all, and a bare socket that
notes every connection it gets (``ConnectionListener``).

A ``LoopbackServer`` subclass returns its request handler class from ``handler()``; each
handler instance reaches the server object as ``self.server_state``.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

Server = TypeVar("Server", bound="LoopbackServer")


class LoopbackServer:
    def __init__(self) -> None:
        self.url = ""
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self: Server) -> Server:
        handler = type("Handler", (self.handler(),), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes handlers waiting in `sleep`
        self._httpd.shutdown()
        self._httpd.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False if the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)

    def __enter__(self: Server) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Serving:
    """Starts loopback servers on demand (``serving(server)`` returns it, started) and stops
    every one of them on exit: the conftest's ``loopback`` fixtures."""

    def __init__(self) -> None:
        self._started: list[LoopbackServer] = []

    def __call__(self, server: Server) -> Server:
        self._started.append(server.start())
        return server

    def __enter__(self) -> Serving:
        return self

    def __exit__(self, *exc: object) -> None:
        for server in reversed(self._started):
            server.stop()
        self._started.clear()


class ConnectionListener:
    """A socket on 127.0.0.1 that accepts, and keeps in ``accepted``, every connection made to
    it: a test that nothing reached the host's network asserts ``accepted == []``."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/collect"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self._socket.close()
        for connection in self.accepted:
            connection.close()

    def __enter__(self) -> ConnectionListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
