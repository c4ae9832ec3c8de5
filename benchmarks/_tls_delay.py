"""Loopback with TLS and a round trip: a self-signed certificate, a TLS front, a delay line.

``async with DelayedTLS(target_port, rtt=0.030) as front:`` listens on ``front.port``: every
byte a client sends waits ``rtt / 2`` before it reaches a TLS server (so the handshake pays the
round trips too), which talks plain HTTP/WebSocket to ``target_port``; answers wait ``rtt / 2``
on the way back. ``front.client_ssl`` trusts the certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import tempfile
from pathlib import Path

__all__ = ["DelayedTLS"]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography, which the ed25519 extra has)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                delay: float) -> None:
    """Copy bytes, each chunk ``delay`` late, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def later() -> None:
        while True:
            at, chunk = await queue.get()
            if not chunk:
                break
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()

    sender = loop.create_task(later())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
    except (ConnectionError, OSError):
        pass
    finally:
        queue.put_nowait((loop.time() + delay, b""))
        with contextlib.suppress(Exception):
            await sender


class DelayedTLS:
    """The front described in the module's docstring."""

    def __init__(self, target_port: int, rtt: float = 0.030) -> None:
        self.target_port = target_port
        self.half = rtt / 2
        self.port = 0
        self.client_ssl: ssl.SSLContext | None = None
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._dir = tempfile.TemporaryDirectory()

    async def __aenter__(self) -> DelayedTLS:
        cert, key = _self_signed(Path(self._dir.name))
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ssl.load_cert_chain(cert, key)
        client_ssl = ssl.create_default_context(cafile=str(cert))
        self.client_ssl = client_ssl
        tls = await asyncio.start_server(self._tls, "127.0.0.1", 0, ssl=server_ssl)
        tls_port = tls.sockets[0].getsockname()[1]
        front = await asyncio.start_server(
            lambda r, w: self._relay(r, w, tls_port, self.half), "127.0.0.1", 0)
        self.port = front.sockets[0].getsockname()[1]
        self._servers = [tls, front]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for server in self._servers:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._dir.cleanup()

    async def _tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._relay(reader, writer, self.target_port, 0.0)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     port: int, delay: float) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await asyncio.gather(_pump(reader, up_writer, delay), _pump(up_reader, writer, delay))
        except asyncio.CancelledError:
            pass  # the front is closing
        finally:
            if task is not None:
                self._tasks.discard(task)
