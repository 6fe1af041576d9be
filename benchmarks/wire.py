"""Bytes on the wire: a TCP relay in front of the API server that counts what it forwards.

TLS passes through untouched (the server certificate names 127.0.0.1, whatever the port),
so kubectl and the tool are measured alike, compression and TLS framing included:
``server_to_client`` is what the client received. Used only for dedicated runs (the
relay costs CPU of its own; timings come from direct runs).
"""

from __future__ import annotations

import selectors
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import yaml


class CountingRelay(threading.Thread):
    def __init__(self, server: str) -> None:
        super().__init__(daemon=True, name="bench-relay")
        u = urlsplit(server)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 443)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.server_to_client = 0
        self.client_to_server = 0
        self.connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.server_to_client = self.client_to_server = self.connections = 0

    def kubeconfig(self, src: Path, dst: Path) -> Path:
        doc = yaml.safe_load(src.read_text())
        for c in doc["clusters"]:
            c["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        dst.write_text(yaml.safe_dump(doc, sort_keys=False))
        dst.chmod(0o600)
        return dst

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(c,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        try:
            up = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        with self._lock:
            self.connections += 1
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, up)
        sel.register(up, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in sel.select(1.0):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = src.recv(262144)
                    if not data:
                        return
                    key.data.sendall(data)
                    with self._lock:
                        if src is up:
                            self.server_to_client += len(data)
                        else:
                            self.client_to_server += len(data)
                if self._stop.is_set():
                    return
        except OSError:
            return
        finally:
            sel.close()
            client.close()
            up.close()
