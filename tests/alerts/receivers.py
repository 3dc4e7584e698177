"""Real HTTP receivers for the alerts tests: an ``http.server`` in a thread that records what it
got and answers from a script (status codes in turn, a hang until released, or an answer dripped
a byte at a time); and a mail server that takes connections and never says a word."""

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """``answers``: the status of each request in turn (the last one repeats); ``hang``: requests
    wait for ``release`` (at most ``hang_s``) before answering; ``answer_headers``: sent with
    every answer (a ``Retry-After``, say); ``drip_s``: the first ``dripped`` answers are written
    one byte every ``drip_s`` seconds from the status line on (with ``drip_body``: the status
    and headers at once, then the body), and ``gave_up`` counts those the sender closed before
    their end.
    """

    answers: list[int] = field(default_factory=lambda: [200])
    answer_headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    hang_s: float = 30.0
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    drip_s: float = 0.0
    dripped: int = 1
    drip_body: bool = False
    gave_up: int = 0

    def drips(self, request: Received) -> bool:
        with self.lock:
            return bool(self.drip_s) and any(
                each is request for each in self.received[: self.dripped]
            )

    def answer(self, request: Received) -> int:
        with self.lock:
            self.received.append(request)
            turn = len(self.received) - 1
        if self.hang:
            self.release.wait(self.hang_s)
        return self.answers[min(turn, len(self.answers) - 1)]

    def deliveries(self) -> list[str]:
        return [each.headers.get("X-Replay-Issues-Delivery", "") for each in self.received]


# A self-signed certificate for 127.0.0.1 (and its key), made for these tests only: an https
# receiver with it is refused unless the client trusts this file (SSL_CERT_FILE).
TLS_CERTIFICATE = Path(__file__).parent / "tls" / "receiver.pem"


@contextmanager
def receiving(receiver: Receiver | None = None, tls: bool = False) -> Iterator[Receiver]:
    """``receiver`` answering on 127.0.0.1, over TLS with ``TLS_CERTIFICATE`` if ``tls``."""
    receiver = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Received(self.path, dict(self.headers), body)
            status = receiver.answer(request)
            if receiver.drips(request):
                self.drip(status)
                return
            try:
                self.send_response(status)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender timed out and went away

        def drip(self, status: int) -> None:
            body = b"ok, eventually"
            head = f"HTTP/1.1 {status} Dripping\r\nContent-Length: {len(body)}\r\n\r\n"
            answer = head.encode() + body
            start = len(head) if receiver.drip_body else 0
            self.wfile.write(answer[:start])
            try:
                for index in range(start, len(answer)):
                    time.sleep(receiver.drip_s)
                    self.wfile.write(answer[index : index + 1])
            except OSError:
                with receiver.lock:
                    receiver.gave_up += 1
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the workers' bursts of connections wait, not reset

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_CERTIFICATE)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    receiver.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def silent_smtp_server() -> Iterator[int]:
    """A port where connections are accepted (by the kernel's backlog) and never answered: an
    SMTP client waits for a greeting that does not come."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
