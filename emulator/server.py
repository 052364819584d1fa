"""Programmatic entry point: run the emulator on a loopback port in a background thread.

    with EmulatorServer(EmulatorOptions(port=0, job_seconds=0.5)) as srv:
        client = make_client(srv.base_url)
        srv.set_faults([{"kind": "status", "status": 503, "path": "^/v1/generate"}])
        ...
        assert srv.requests()[-1]["status"] == 200

Besides its own port the emulator listens on a second one, "the other origin": the same API
behind another origin, where redirect faults and planted links lead by default. No fault acts
there; the request log marks what it receives with ``"listener": "other"``, so a test can tell
that a client sent nothing where it was led.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from .app import Emulator
from .handler import EmulatorHandler
from .options import EmulatorOptions

__all__ = ["EmulatorOptions", "EmulatorServer"]


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Emulator, listener: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.listener = listener
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would do a reverse DNS lookup (slow, and not needed here).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """End idle keep-alive connections so no handler outlives the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue


class EmulatorServer:
    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self.app = Emulator(self.options)
        self._http: _HttpServer | None = None
        self._other: _HttpServer | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        if self._http is not None:
            raise RuntimeError("emulator already started")
        host = self.options.host
        self._http = _HttpServer((host, self.options.port), self.app, "main")
        self._other = _HttpServer((host, 0), self.app, "other")
        self.app.root_url = self.root_url
        self.app.other_root_url = _root(host, int(self._other.server_address[1]))
        self.app.start()
        for server, name in ((self._http, "emulator-http"), (self._other, "emulator-other")):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                      name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        servers = [server for server in (self._http, self._other) if server is not None]
        self._http = self._other = None
        if not servers:
            return
        for server in servers:
            server.shutdown()
            server.server_close()
            server.close_connections()
        self.app.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> EmulatorServer:
        return self.start() if self._http is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("emulator not started")
        return int(self._http.server_address[1])

    @property
    def root_url(self) -> str:
        return _root(self.options.host, self.port)

    @property
    def other_root_url(self) -> str:
        """The other listener's origin: another port of the same host."""
        return self.app.other_root_url

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    # -- test helpers (same data as the /_emulator control API) ---------------------------------
    def set_faults(self, rules: list[dict[str, Any]], *, append: bool = False) -> None:
        self.app.services.faults.set(rules, append=append)

    def faults(self) -> list[dict[str, Any]]:
        return self.app.services.faults.describe()

    def requests(self) -> list[dict[str, Any]]:
        return self.app.services.log.entries()

    def reset(self, *, clear_state: bool = False) -> None:
        self.app.services.reset(clear_state=clear_state)

    def state(self) -> dict[str, Any]:
        return self.app.services.state()


def _root(host: str, port: int) -> str:
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"
