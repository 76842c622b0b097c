"""Real servers on loopback for the alert tests: an HTTP server recording webhook POSTs and an
SMTP server (aiosmtpd) recording mails, optionally with STARTTLS and a login."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Webhook:
    """What the webhook server received, and the statuses it answers with next (then 200)."""

    url: str
    posts: list[dict] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    refused: int = 0


@contextmanager
def webhook_server(path: str = "/webhook") -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 recording JSON POSTs to `path`."""
    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}{path}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = hook.answers.pop(0) if hook.answers else 200
            if status == 200 and self.path.split("?")[0] == path:
                hook.posts.append(
                    {"content_type": self.headers.get("Content-Type"), "body": json.loads(body)}
                )
            else:
                hook.refused += 1
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Mailbox:
    host: str
    port: int
    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)  # SMTP replies to DATA, used up in order
    logins: list[str] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)  # whether each mail came over TLS


class _Recorder:
    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        if self.box.refuse:
            return self.box.refuse.pop(0)
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.box.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        self.box.tls.append(session.ssl is not None)
        return "250 OK"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def smtp_server(
    tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None
) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1; with `tls` (cert, key) it offers STARTTLS and requires it,
    with `login` (user, password) it requires that login (after STARTTLS)."""
    box = Mailbox("127.0.0.1", free_port())
    options: dict = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        options |= {"tls_context": context, "require_starttls": True}
    if login:

        def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                )
                == login
            )
            if ok:
                box.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        options |= {"authenticator": authenticate, "auth_required": True}
    controller = Controller(_Recorder(box), hostname=box.host, port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
