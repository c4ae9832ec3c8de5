"""The shared-limiter tests again, on a Redis Cluster of three masters that this module starts,
reached by the URL of one of its nodes (the limiter sees the cluster and routes by slot)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from benchmarks._redis_server import RedisCluster, have_redis_server
from htx_cancel.redis_limiter import RedisLimiter

from . import test_redis_limiter as limiter_tests
from . import test_redis_policy as policy_tests

pytestmark = pytest.mark.redis

SHARED = [
    limiter_tests.test_never_more_than_limit_per_window,
    limiter_tests.test_strategy_request_takes_both_pools_or_nothing,
    limiter_tests.test_strategy_pool_full_does_not_touch_trade,
    limiter_tests.test_dead_process_slots_expire_with_their_lease,
    limiter_tests.test_cancelled_waiter_takes_nothing,
    limiter_tests.test_dead_waiter_leaves_the_queue,
    limiter_tests.test_cancelled_during_the_script_gives_a_grant_back,
    limiter_tests.test_fifo_in_a_process_and_turns_between_processes,
    limiter_tests.test_queued_strategy_requests_get_a_reserve,
    limiter_tests.test_pause_after_1032_holds_every_process,
    limiter_tests.test_observe_holds_back_outside_use,
    policy_tests.test_a_high_waiter_in_another_process_goes_before_normal_ones,
    policy_tests.test_a_cold_pool_sends_one_probe_first,
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    if not have_redis_server():
        if "REDIS_URL" in os.environ:
            pytest.fail("REDIS_URL is set (CI) but redis-server is not on PATH")
        pytest.skip("redis-server is not installed")
    with RedisCluster(3) as c:
        yield c


@pytest.mark.parametrize("test", SHARED, ids=lambda t: t.__name__)
async def test_on_a_three_master_cluster(cluster: RedisCluster,
                                         test: Callable[[str, str], Awaitable[None]]) -> None:
    await test(cluster.url, f"cluster-{uuid.uuid4().hex[:8]}")


async def test_the_url_of_a_node_gets_a_cluster_client(cluster: RedisCluster) -> None:
    from redis.asyncio import RedisCluster as Client

    async with RedisLimiter(cluster.url, "uid-cluster") as limiter:
        await limiter.ping()
        assert isinstance(limiter._client, Client)
        # every key of the account in one slot: the scripts run on one node
        assert len({limiter._client.keyslot(limiter.key(k))
                    for k in ("pool:trade", "q:0:swap_cancel", "gen")}) == 1
