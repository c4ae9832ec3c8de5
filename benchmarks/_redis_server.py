"""A Redis server (or a three-master Redis Cluster) of one's own, to kill, restart and flush.

For the fault tests and the fault benchmark: ``redis-server`` on a free port of 127.0.0.1, in a
temporary directory, without persistence (a restart comes back empty, as a Redis without
persistence does), with a log file. Every wait has a time limit.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisCluster", "RedisServer", "free_port", "have_redis_server"]

_WAIT = 10.0


def have_redis_server() -> bool:
    """True when ``redis-server`` and ``redis-cli`` are on PATH."""
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, cluster: bool = False) -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now (for a cluster node: one of at most
    55535 whose bus port, 10000 above it, is free too)."""
    if not cluster:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 55535)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _cli(port: int, *args: str, timeout: float = 2.0) -> str:
    """``redis-cli -p port args`` with a time limit; its output ('' if it failed)."""
    try:
        done = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


class RedisServer:
    """One ``redis-server`` this object started: ``start``, ``kill`` (SIGKILL), ``restart``
    (empty), ``flushall``; ``url`` names it. Use as a context manager."""

    def __init__(self, port: int | None = None, *, extra: tuple[str, ...] = ()) -> None:
        self.port = port or free_port(cluster="--cluster-enabled" in extra)
        self.dir = Path(tempfile.mkdtemp(prefix=f"redis-{self.port}-"))
        self.log = self.dir / "redis.log"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.run_id = ""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait (at most 10 s) until it is the one answering."""
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.log),
             *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + _WAIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on {self.port} exited: {self.tail()}")
            info = _cli(self.port, "INFO", "server", timeout=1.0)
            if f"process_id:{self.proc.pid}" in info:
                self.run_id = next(line.split(":", 1)[1] for line in info.splitlines()
                                   if line.startswith("run_id:"))
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server on {self.port} did not answer: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL: gone at once, nothing saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(_WAIT)
        self.proc = None

    def restart(self) -> None:
        """Kill and start again on the same port, empty."""
        self.kill()
        self.start()

    def flushall(self) -> None:
        """FLUSHALL: every key gone (the scripts stay loaded)."""
        if _cli(self.port, "FLUSHALL") != "OK":
            raise RuntimeError(f"FLUSHALL failed on {self.port}")

    def tail(self, lines: int = 20) -> str:
        """The end of the server's log."""
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisCluster:
    """Three masters on free ports, joined with ``redis-cli --cluster create``."""

    def __init__(self, masters: int = 3) -> None:
        self.nodes = [RedisServer(extra=("--cluster-enabled", "yes", "--cluster-config-file",
                                         "nodes.conf", "--cluster-node-timeout", "2000"))
                      for _ in range(masters)]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def __enter__(self) -> RedisCluster:
        try:
            for node in self.nodes:
                node.start()
            addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
            subprocess.run(["redis-cli", "--cluster", "create", *addresses, "--cluster-yes"],
                           capture_output=True, timeout=30, check=True)
            deadline = time.monotonic() + _WAIT
            while "cluster_state:ok" not in _cli(self.nodes[0].port, "CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the cluster did not reach cluster_state:ok")
                time.sleep(0.1)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for node in self.nodes:
            node.__exit__(None, None, None)
