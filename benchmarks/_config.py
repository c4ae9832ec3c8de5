"""Sizes of every scenario, full and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL", "QUICK", "Sizes"]


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each scenario is; the exchange's limits used by the rate-limited scenarios."""

    # 1. client CPU, limits off
    cpu_requests: int = 500
    cpu_rounds: int = 12
    cpu_in_flight: int = 16
    # 2. rate limits on
    trade_limit: tuple[int, float] = (72, 3.0)
    strategy_limit: tuple[int, float] = (5, 1.0)
    bulk_ids: int = 10_000
    trigger_ids: int = 300  # v1: trigger ids; v5: algo ids
    mix: tuple[tuple[str, int], ...] = (("order", 2000), ("trigger", 300), ("tpsl", 150),
                                        ("track", 150))  # v1
    mix_v5: tuple[tuple[str, int], ...] = (("order", 2000), ("algo", 300))
    jitter: tuple[float, float] = (0.0, 0.003)
    windows: tuple[str, ...] = ("fixed", "sliding")
    # 5. a steady outsider beside a large cancel; 6. urgent cancels past placements
    outside_ids: int = 5_000
    queued_normal: int = 300
    urgent_cancels: int = 10
    # 3. memory, limits off
    memory_sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    # 4. latency of one id
    latency_runs: int = 200
    # 7. v5 verification with and without the order stream; 8. the trade socket against HTTP
    stream_ids: int = 10_000
    socket_ids: int = 720
    socket_runs: int = 3
    # 9. the caller's loop: ids of the bulk and the heavy mix, and of the verified run
    loop_ids: int = 10_000
    loop_verify_ids: int = 10_000


FULL = Sizes()
QUICK = Sizes(
    cpu_requests=120,
    cpu_rounds=1,
    cpu_in_flight=16,
    trade_limit=(24, 0.5),
    strategy_limit=(5, 0.25),
    bulk_ids=1000,
    trigger_ids=300,
    mix=(("order", 250), ("trigger", 200), ("tpsl", 100), ("track", 100)),
    mix_v5=(("order", 250), ("algo", 150)),
    windows=("sliding",),
    memory_sizes=(500, 2000),
    outside_ids=1_000,
    queued_normal=100,
    urgent_cancels=4,
    latency_runs=30,
    stream_ids=300,
    socket_runs=1,
    loop_ids=1_000,
    loop_verify_ids=1_000,
)
