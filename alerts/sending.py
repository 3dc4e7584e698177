"""Sending one delivery (the HTTP and mail edge): a webhook POST, a Slack message, an e-mail.

Destinations are checked when sent, against the address the name resolves to then (a name that
pointed at a public address when the rule was saved may point inside the network later): only
http(s); never cloud metadata, link-local, multicast or unspecified addresses; private and loopback
addresses only where ``ALERTS_ALLOW_PRIVATE_ADDRESSES`` is on. The connection then goes to that
very address (no second lookup to race with), with TLS checked against the URL's host name.
A rule's URL whose host is an IP address is also checked when the rule is saved
(``literal_address_refusal``); a host name only here, since what it resolves to can change.

One attempt is bounded as a whole by its timeout, not per socket operation: a receiver that drips
its answer a byte at a time must not keep a thread (and the delivery's claim) past the lease, when
another worker would claim the delivery and send it again.

Runs in the worker's threads: no database access here.
"""

import http.client
import io
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.mail import get_connection, send_mail

from alerts.payload import email_message, encode, slack_message, webhook_headers
from alerts.retry import Outcome, outcome_of_status, retry_after_s

# Instance metadata services that are not in the link-local range (which is refused as a whole).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
BODY_EXCERPT_BYTES = 300


class UnsafeDestination(ValueError):
    """The URL may not be sent to: the delivery fails with this reason, and is not retried."""


@dataclass(frozen=True, slots=True)
class Job:
    """What one attempt needs, read from the database by the worker before it is handed out."""

    delivery_id: str
    action: dict[str, Any]
    payload: dict[str, Any]
    timeout_s: float
    allow_private: bool
    from_email: str = ""


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; ``UnsafeDestination`` if not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination(f"only http and https URLs are sent to, not {parts.scheme!r}")
    if not parts.hostname:
        raise UnsafeDestination("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeDestination("the URL carries credentials: put a secret in the rule instead")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeDestination("the URL's port is not a number from 1 to 65535") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def address_refusal(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool
) -> str | None:
    """Why ``address`` may not be sent to, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES or address.is_link_local:
        return f"{address} is a link-local or cloud metadata address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return f"{address} is not a unicast address"
    if (address.is_private or address.is_loopback) and not allow_private:
        return (
            f"{address} is a private or loopback address "
            "(allowed only with ALERTS_ALLOW_PRIVATE_ADDRESSES)"
        )
    return None


def resolve_safely(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to: every address the name has must be allowed (a name with one
    inside address could be made to answer with it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        if reason := address_refusal(address, allow_private):
            raise UnsafeDestination(reason)
    return str(addresses[0])


def literal_address_refusal(host: str, allow_private: bool) -> str | None:
    """Why a URL whose host is an IP address may not be sent to, or None (also None for a host
    name: what a name resolves to is only known when sending). Numeric hosts are read as the
    resolver reads them, so ``2852039166`` or ``0xa9.254.169.254`` are 169.254.169.254."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return address_refusal(address, allow_private)


class _Deadline:
    """The time one attempt has left; each blocking socket operation gets only that much."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("the attempt's deadline passed")
        return left


class _DeadlineSocket:
    """What ``http.client`` uses of a socket (``sendall``, ``makefile``, ``close``), each bounded
    by the attempt's deadline. A (TLS) socket's ``sendall`` is bounded as a whole by its timeout,
    a read only per call: hence the reader below, through which ``http.client`` reads the status
    line, the headers and the body in as many reads as the receiver makes it take. As with a
    socket's own ``makefile``, the socket is closed once the connection and its readers are."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        self._users = 1  # the connection

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._deadline.left())
        self._sock.sendall(data)

    def recv_into(self, buffer: Any) -> int:
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._users += 1
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        self._users -= 1
        if self._users == 0:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._sock.close()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """A connection to the checked ``address`` (not a second lookup of the host name), every
    step of it within ``deadline``."""

    def __init__(self, host: str, port: int, address: str, deadline: _Deadline) -> None:
        super().__init__(host, port)
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self._deadline.left())
        try:
            sock = self.secure(sock)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self._deadline)  # type: ignore[assignment]

    def secure(self, sock: socket.socket) -> socket.socket:
        return sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def secure(self, sock: socket.socket) -> socket.socket:
        # The handshake is bounded as a whole by the socket's timeout.
        sock.settimeout(self._deadline.left())
        return ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)


def post(
    url: str, raw_body: bytes, headers: dict[str, str], timeout_s: float, allow_private: bool
) -> Outcome:
    """POST ``raw_body`` to ``url``; what came of it. ``timeout_s`` bounds the whole attempt
    after the name is resolved: connecting, TLS, sending, and reading the status, the headers and
    the body's excerpt; past it, the attempt is a timeout (retried)."""
    try:
        scheme, host, port, path = check_url(url)
        address = resolve_safely(host, port, allow_private)
    except UnsafeDestination as exc:
        return Outcome(False, False, None, f"refused: {exc}")
    except ConnectionError as exc:
        return Outcome(False, True, None, str(exc))
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, _Deadline(timeout_s))
    try:
        connection.request("POST", path, body=raw_body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(BODY_EXCERPT_BYTES).decode(errors="replace").strip()
        wait = retry_after_s(response.getheader("Retry-After"), datetime.now(UTC))
        return outcome_of_status(response.status, excerpt, wait)
    except TimeoutError:
        return Outcome(False, True, None, f"timed out after {timeout_s:g} s")
    except ssl.SSLCertVerificationError as exc:
        return Outcome(False, False, None, f"TLS certificate refused: {exc.verify_message}")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, True, None, f"connection error: {exc or type(exc).__name__}")
    finally:
        connection.close()


def send(job: Job) -> Outcome:
    """One attempt of a delivery by its action's type."""
    action_type = job.action.get("type")
    if action_type == "webhook":
        raw = encode(job.payload)
        headers = webhook_headers(job.delivery_id, job.action.get("secret", ""), raw)
        return post(job.action.get("url", ""), raw, headers, job.timeout_s, job.allow_private)
    if action_type == "slack":
        raw = encode(slack_message(job.payload))
        headers = {"Content-Type": "application/json", "X-Replay-Issues-Delivery": job.delivery_id}
        return post(job.action.get("url", ""), raw, headers, job.timeout_s, job.allow_private)
    if action_type == "email":
        return _email(job)
    return Outcome(False, False, None, f"unknown action type {action_type!r}")


def _email(job: Job) -> Outcome:
    recipients = [str(each) for each in job.action.get("recipients") or []]
    if not recipients:
        return Outcome(False, False, None, "the rule has no recipients")
    subject, text = email_message(job.payload)
    try:
        # The delivery's timeout, as for a webhook: a mail server that never answers fails the
        # attempt (retried) instead of holding a thread, and the claim, for ever. It bounds each
        # exchange with the server, which the operator runs (a receiver that drips its answer is
        # a webhook's risk, where anyone with a project can point a rule).
        connection = get_connection(timeout=job.timeout_s)
        send_mail(subject, text, job.from_email or None, recipients, connection=connection)
    except Exception as exc:  # smtplib's errors, sockets', and any backend's own
        return Outcome(False, True, None, f"e-mail not sent: {exc}")
    return Outcome(True, False, None)


Sender = Callable[[Job], Outcome]
