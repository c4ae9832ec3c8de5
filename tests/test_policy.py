"""The one policy both limiters follow: pure arithmetic, fixed cases."""

from __future__ import annotations

from htx_cancel._limits import policy
from htx_cancel._limits.outside import OutsideUse


def test_the_reserve_is_two_thirds_of_the_shared_pool_and_never_all_of_it() -> None:
    assert policy.reserve_cap(72) == 48
    assert policy.reserve_cap(72, 100) == 71
    assert policy.reserve_cap(1) == 0
    assert policy.per_window((5, 1.0), 3.0) == 15


def test_the_reserve_counts_each_strategy_endpoint_up_to_its_per_window_need() -> None:
    need = policy.per_window((5, 1.0), 3.0)
    assert policy.strategy_reserve([], 48) == 0
    assert policy.strategy_reserve([("a", 3, need)], 48) == 3
    assert policy.strategy_reserve([("a", 40, need)], 48) == 15  # one endpoint: one window's
    # one endpoint queued at two priorities (or in two processes) still sends one window's worth
    assert policy.strategy_reserve([("a", 10, need), ("a", 10, need)], 48) == 15
    assert policy.strategy_reserve([("a", 10, need), ("b", 10, need)], 48) == 20
    assert policy.strategy_reserve([(n, 40, need) for n in "abcd"], 48) == 48  # never past cap


def test_headers_name_their_pool_by_limit_and_interval() -> None:
    pools = ("trade", "swap_trigger_cancel")
    full = {"trade": (72, 3.0), "swap_trigger_cancel": (5, 1.0)}
    mine = {"trade": 36, "swap_trigger_cancel": 2}
    assert policy.match_pool(pools, full, mine, 5, 1000) == "swap_trigger_cancel"
    assert policy.match_pool(pools, full, mine, 36, 3000) == "trade"  # this process's share
    assert policy.match_pool(pools, full, mine, 72, 1000) is None
    assert policy.match_pool(pools, full, mine, None, None) is None


def test_a_pause_lasts_until_the_reset_at_most_a_window() -> None:
    assert policy.pause_for(3.0, 0.4, 0.005) == 0.405
    assert policy.pause_for(3.0, 30.0, 0.0) == 3.0
    assert policy.pause_for(3.0, None, 0.0) == 3.0
    assert policy.outside_count(72, 10, 50) == 12
    assert policy.outside_count(72, 30, 50) == 0


def test_a_steady_outsider_becomes_a_standing_hold_that_lapses_when_it_stops() -> None:
    use = OutsideUse(72, 3.0, prior=policy.prior_for(72, 0.25), probe=True)
    assert use.cold(0.0)  # nothing known: probe first
    use.answered(0.0)
    use.observe(0.0, 18, reset_in=0.0)  # a count over a whole window
    assert not use.cold(0.0)
    assert use.hold(0.0) == 18 + 2
    use.observe(1.0, 9, reset_in=1.5)  # fixed windows: 9 in the first half -> 18 a window
    assert use.hold(1.0) == 20
    assert use.hold(9.9) == 20  # stands between the outsider's requests...
    assert use.hold(10.0) == 0  # ...and lapses three periods after the last support
    assert use.cold(10.0)  # and nothing is known any more


def test_a_short_count_is_rechecked_once_the_window_is_half_old() -> None:
    use = OutsideUse(72, 3.0, prior=20, probe=True)
    use.answered(0.0)
    use.observe(0.0, 0, reset_in=2.8)  # 0.2 s of a fixed window: says little
    assert use.hold(0.1) == 0 and not use.cold(0.1)
    assert use.cold(1.3)  # the window is half old: probe again
    use.answered(1.3)
    use.observe(1.3, 3, reset_in=1.6)  # 1.4 s covered, still under half: lower bound kept
    assert use.hold(1.3) == 20  # a short count showed outside use: the prior stands
    use.observe(1.6, 8, reset_in=1.5)
    assert use.hold(1.6) == 16 + 2  # informed: 8 in 1.5 s is 16 a window


def test_a_1032_is_a_pause_not_a_rate() -> None:
    use = OutsideUse(72, 3.0)
    use.answered(0.0)
    use.observe(0.0, 71, reset_in=0.05)
    use.rejected(0.0)
    assert use.hold(0.1) == 0
    silent = OutsideUse(72, 3.0, probe=True)
    silent.answered(0.0)  # answers without headers: nothing to learn, no more probes
    assert not silent.cold(100.0)
