"""Webhooks over https to a real TLS receiver on 127.0.0.1: the certificate is checked against
the URL's host, and the handshake is inside the attempt's one bound (a server that drips it a
byte at a time is cut off like a receiver that drips its answer)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from alerts.sending import post
from tests.alerts.receivers import TLS_CERTIFICATE, Receiver, receiving


def test_a_receivers_certificate_is_checked(monkeypatch):
    with receiving(tls=True) as receiver:
        refused = post(receiver.url, b"{}", {}, 2.0, True)
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERTIFICATE))
        trusted = post(receiver.url, b"{}", {}, 2.0, True)
    assert (refused.delivered, refused.retryable) == (False, False)
    assert refused.error == "TLS certificate refused: self-signed certificate"
    assert (trusted.delivered, trusted.status, trusted.body) == (True, 200, "ok")
    assert len(receiver.received) == 1


def test_an_answer_dripped_over_tls_is_cut_off(monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERTIFICATE))
    with receiving(Receiver(drip_s=0.5), tls=True) as receiver:
        outcome = post(receiver.url, b"{}", {}, 1.0, True)
    assert (outcome.error, outcome.retryable) == ("timed out after 1 s", True)


@contextmanager
def handshake_dripper(every_s: float) -> Iterator[int]:
    """A port whose server sends a TLS handshake record of 16 KiB one byte every ``every_s``
    seconds: a handshake that does not complete for an hour, every read answered in time."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        record = b"\x16\x03\x03\x40\x00" + bytes(16384)
        with connection:
            for byte in record:
                if stop.wait(every_s):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def test_a_handshake_dripped_a_byte_at_a_time_is_cut_off():
    timeout_s = 1.0
    with handshake_dripper(every_s=0.2) as port:
        started = time.monotonic()
        outcome = post(f"https://127.0.0.1:{port}/hook", b"{}", {}, timeout_s, True)
        took_s = time.monotonic() - started
    assert (outcome.error, outcome.retryable) == (f"timed out after {timeout_s:g} s", True)
    assert took_s < 30 * timeout_s  # the whole handshake would take 55 minutes
