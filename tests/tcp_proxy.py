"""A TCP proxy in a thread, to make a server (the machine's PostgreSQL) go away for a moment.

Point a client at ``proxy.port`` instead of the server's. ``refuse()`` cuts
every open connection and stops listening, so new connections are refused,
as when the database is down; ``accept()`` listens again on the same port.
The server itself is never touched: other people's tests keep using it.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class TcpProxy:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._pipes: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- what the test says -------------------------------------------------------------------------

    def accept(self) -> None:
        """Listen (again, on the same port) and forward every connection to the target."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            listener.settimeout(0.2)
            self.port = listener.getsockname()[1]
            self._listener = listener
        self._start(self._serve, listener)

    def refuse(self) -> None:
        """Stop listening (new connections are refused) and cut every connection already open."""
        with self._lock:
            listener, self._listener = self._listener, None
            pipes, self._pipes = self._pipes, set()
        if listener is not None:
            listener.close()
        for sock in pipes:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stopped.set()
        self.refuse()
        for thread in self._threads:
            thread.join(5)

    # --- forwarding ---------------------------------------------------------------------------------

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="tcp-proxy")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _serve(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # refused: the listener was closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # refuse() came in between
                    client.close()
                    upstream.close()
                    return
                self._pipes.update((client, upstream))
            self._start(self._pump, client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        for sock in (client, upstream):
            sock.setblocking(False)
        peer = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while not self._stopped.is_set():
                    for key, _ in selector.select(timeout=0.5):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peer[key.fileobj].setblocking(True)
                        peer[key.fileobj].sendall(data)
                        peer[key.fileobj].setblocking(False)
            except (OSError, ValueError):
                return  # cut by refuse(), or the other side went away
            finally:
                with self._lock:
                    self._pipes.difference_update(peer)
                for sock in peer:
                    with suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()


@contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy((host, port))
    proxy.accept()
    try:
        yield proxy
    finally:
        proxy.close()
