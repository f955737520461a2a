from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from netstats.agent.deltas import MAX_INTERVAL_S, Counters, Gone, Reading, State, step

T0 = datetime(2026, 3, 2, tzinfo=UTC)
BOOT = "6f1c1c5e-0d44-4f0e-9d1c-6a3f2f7c9a10"


def reading(
    seconds: float,
    boot: str = BOOT,
    present: tuple[str, ...] | None = None,
    link: dict | None = None,
    wall: datetime | None = None,
    links: dict[str, int] | None = None,
    removed: tuple[Gone, ...] = (),
    **counters: tuple[int, int],
) -> Reading:
    return Reading(
        boot_id=boot,
        wall=wall or T0 + timedelta(seconds=seconds),
        monotonic=seconds,
        counters={k: Counters(*v) for k, v in counters.items()},
        present=frozenset(present if present is not None else counters),
        link_bytes_per_s=link or {},
        links=links or {},
        removed=removed,
    )


def run(*readings: Reading, ceiling: float | None = None):
    state: State | None = None
    out = []
    for r in readings:
        result = step(state, r, "bot-1", ceiling)
        state = result.state
        out.append(result)
    return out


def bytes_of(result) -> dict[str, tuple[int, int]]:
    return {s.iface: (s.bytes_sent, s.bytes_recv) for s in result.samples}


def test_first_run_records_only_a_baseline():
    (first,) = run(reading(100, eth0=(5000, 7000)))
    assert first.samples == []
    assert first.state.counters == {"eth0": Counters(5000, 7000)}


def test_delta_is_the_counter_increase_with_its_interval_and_time():
    _, second = run(reading(100, eth0=(5000, 7000)), reading(110, eth0=(5600, 7900)))
    (s,) = second.samples
    assert (s.bytes_sent, s.bytes_recv, s.interval_s) == (600, 900, 10)
    assert s.sampled_at == T0 + timedelta(seconds=110)
    assert (s.host, s.iface) == ("bot-1", "eth0")


def test_counter_reset_counts_new_value():
    _, second = run(reading(100, eth0=(5000, 7000)), reading(110, eth0=(300, 9000)))
    assert bytes_of(second) == {"eth0": (300, 2000)}
    assert second.warnings == []


def test_reboot_counts_the_counters_since_boot_even_when_they_are_higher():
    _, after = run(
        reading(100_000, eth0=(5000, 7000)), reading(60, boot="next-boot", eth0=(9000, 100))
    )
    assert bytes_of(after) == {"eth0": (9000, 100)}
    assert after.samples[0].interval_s == 60  # the uptime


def test_jump_beyond_the_link_speed_is_a_reset_not_a_spike():
    link = {"eth0": 125_000.0}  # 1 Mbit/s: 10 s can carry 1.875 MB with headroom
    _, second = run(
        reading(100, eth0=(5000, 5000), link=link),
        reading(110, eth0=(5000 + 10**12, 6000), link=link),
    )
    assert bytes_of(second) == {"eth0": (0, 1000)}
    assert "more than the link could carry" in second.warnings[0]


def test_jump_beyond_the_ceiling_counts_nothing_and_says_so():
    # ceiling 50 B/s over 10 s: at most 500 bytes
    _, inside, beyond, reset_beyond = run(
        reading(100, eth0=(10, 0)),
        reading(110, eth0=(510, 0)),
        reading(120, eth0=(1011, 0)),
        reading(130, eth0=(501, 0)),
        ceiling=50.0,
    )
    assert bytes_of(inside) == {"eth0": (500, 0)} and inside.warnings == []
    assert bytes_of(beyond) == {"eth0": (0, 0)}
    assert "eth0 sent: counter went from 510 to 1011" in beyond.warnings[0]
    assert bytes_of(reset_beyond) == {"eth0": (0, 0)}  # a reset to a value no link could reach


def test_an_interface_that_appears_counts_all_its_traffic():
    _, second = run(reading(100, eth0=(1, 1)), reading(110, eth0=(2, 2), veth1=(300, 400)))
    assert bytes_of(second) == {"eth0": (1, 1), "veth1": (300, 400)}


def test_an_interface_newly_monitored_but_present_before_is_only_baselined():
    first = reading(100, present=("eth0", "wlan0"), eth0=(1, 1))
    _, second = run(first, reading(110, eth0=(2, 2), wlan0=(10**9, 10**9)))
    assert bytes_of(second) == {"eth0": (1, 1)}
    assert second.state.counters["wlan0"] == Counters(10**9, 10**9)


def test_an_interface_that_vanishes_is_forgotten():
    _, second = run(reading(100, eth0=(1, 1), veth1=(5, 5)), reading(110, eth0=(2, 2)))
    assert bytes_of(second) == {"eth0": (1, 1)}
    assert set(second.state.counters) == {"eth0"}


def test_keys_stay_increasing_when_the_wall_clock_steps_back():
    results = run(
        reading(100, eth0=(0, 0)),
        reading(110, eth0=(10, 10)),
        reading(120, eth0=(20, 20), wall=T0 + timedelta(seconds=80)),  # 40 s back
        reading(120.000001, eth0=(30, 30), wall=T0 + timedelta(seconds=80)),
    )
    times = [r.samples[0].sampled_at for r in results[1:]]
    assert times == sorted(set(times))
    assert times[1] == T0 + timedelta(seconds=120)  # previous key + the monotonic interval


def test_a_gap_longer_than_a_day_is_split_with_the_same_bytes():
    _, after = run(reading(0, eth0=(0, 0)), reading(2.5 * 86400, eth0=(1_000_001, 7)))
    assert len(after.samples) == 3
    assert sum(s.bytes_sent for s in after.samples) == 1_000_001
    assert sum(s.bytes_recv for s in after.samples) == 7
    assert all(s.interval_s <= MAX_INTERVAL_S for s in after.samples)
    assert sum(s.interval_s for s in after.samples) == 2.5 * 86400
    assert after.samples[-1].sampled_at == T0 + timedelta(days=2.5)
    assert [s.sampled_at for s in after.samples] == sorted({s.sampled_at for s in after.samples})


events = st.lists(
    st.tuples(
        st.integers(0, 10**9),  # true traffic sent in the interval
        st.integers(0, 10**9),  # received
        st.sampled_from(["none", "none", "none", "reset", "reboot"]),
        st.floats(0.5, 200_000),  # seconds
    ),
    max_size=40,
)


@given(events)
def test_counted_bytes_equal_the_traffic_whenever_the_counters_can_tell(history):
    """Whatever resets and reboots happen: never negative, never more than the real traffic,
    unique increasing keys, and exactly the real traffic unless a counter reset and grew
    back past its old value within one interval (no reader can tell that from no reset)."""
    counter, boot, clock, mono = [5000, 9000], BOOT, 0.0, 1000.0
    true, got, keys, hidden_reset = [0, 0], [0, 0], [], False
    state = step(None, reading(mono, boot=boot, eth0=tuple(counter), wall=T0), "h").state
    for sent, recv, event, seconds in history:
        clock += seconds
        if event == "reboot":
            boot, mono = f"boot-{clock}", 0.0
        mono += seconds
        before = counter
        if event in ("reset", "reboot"):
            counter = [0, 0]
        counter = [counter[0] + sent, counter[1] + recv]
        if event == "reset" and (counter[0] >= before[0] or counter[1] >= before[1]):
            hidden_reset = True
        true = [true[0] + sent, true[1] + recv]
        wall = T0 + timedelta(seconds=clock)
        result = step(state, reading(mono, boot=boot, eth0=tuple(counter), wall=wall), "h")
        state = result.state
        for s in result.samples:
            assert s.bytes_sent >= 0 and s.bytes_recv >= 0
            got = [got[0] + s.bytes_sent, got[1] + s.bytes_recv]
            keys.append(s.sampled_at)
    assert got[0] <= true[0] and got[1] <= true[1]
    if not hidden_reset:
        assert got == true
    assert keys == sorted(set(keys))


TB = 10**12


@given(
    st.lists(
        st.tuples(
            st.floats(
                -3600, 3600
            ),  # the wall clock stepped by this many seconds (chrony, VM resume)
            st.integers(0, 10**9),  # traffic in the interval
        ),
        min_size=1,
        max_size=30,
    )
)
def test_a_stepped_clock_is_no_reboot(steps):
    """psutil's boot time is btime in /proc/stat, which moves with every clock step; the boot
    id does not. 30 days of uptime and 5 TB on the counters: a step counts nothing extra."""
    mono, counter, offset = 30 * 86400.0, 5 * TB, 0.0
    state = step(None, reading(mono, eth0=(counter, counter)), "h").state
    got, true = 0, 0
    for jump, traffic in steps:
        mono += 10
        offset += jump
        counter += traffic
        true += traffic
        wall = T0 + timedelta(seconds=mono + offset)
        result = step(state, reading(mono, eth0=(counter, counter), wall=wall), "h")
        # keys go back only after a re-base: the last key ran over a minute ahead of the clock
        ahead = state.sampled_at - wall > timedelta(seconds=60)
        assert all(x.sampled_at > state.sampled_at for x in result.samples) or ahead
        state = result.state
        got += sum(x.bytes_sent for x in result.samples)
        assert all(x.interval_s == 10 for x in result.samples)
    assert got == true


def test_after_a_reboot_no_sample_reaches_back_before_the_previous_one():
    # down for an hour after the last sample, up for a week: the counters cover the week,
    # the samples only the time since the last sample
    before, after = run(
        reading(500, eth0=(10, 10)),
        reading(7 * 86400, boot="next-boot", eth0=(3000, 3000), wall=T0 + timedelta(seconds=3600)),
    )
    assert sum(s.bytes_sent for s in after.samples) == 3000
    first = min(s.sampled_at - timedelta(seconds=s.interval_s) for s in after.samples)
    assert first >= before.state.sampled_at


def test_keys_follow_the_clock_again_once_it_was_corrected():
    """A tick stamped by a clock an hour ahead must not keep every later key ahead (the
    database refuses samples more than 5 minutes in its future)."""
    ahead = T0 + timedelta(hours=1)
    first, second, third = run(
        reading(100, eth0=(0, 0), wall=ahead),
        reading(110, eth0=(10, 10), wall=T0 + timedelta(seconds=110)),
        reading(120, eth0=(20, 20), wall=T0 + timedelta(seconds=120)),
    )
    assert "the clock was ahead and has been corrected" in second.warnings[0]
    assert [s.sampled_at for s in second.samples + third.samples] == [
        T0 + timedelta(seconds=110),
        T0 + timedelta(seconds=120),
    ]
    assert sum(s.bytes_sent for s in second.samples + third.samples) == 20


def test_a_jump_is_judged_over_at_least_the_interval():
    """A final tick 5 ms after the last: the driver's counter moved a step of 1 MB, which a
    10 Mbit/s link cannot carry in 5 ms but can in the 10 s interval."""
    link = {"tun0": 1_250_000.0}  # tun reports 10 Mbit/s, whatever it really carries
    first = step(None, reading(100, tun0=(0, 0), link=link), "h").state
    judged = step(first, reading(100.005, tun0=(1_000_000, 0), link=link), "h", None, 10.0)
    assert bytes_of(judged) == {"tun0": (1_000_000, 0)} and judged.warnings == []
    unjudged = step(first, reading(100.005, tun0=(1_000_000, 0), link=link), "h", None, 0.0)
    assert bytes_of(unjudged) == {"tun0": (0, 0)}  # what the old rule did: a real MB lost


def test_a_spool_from_before_boot_ids_tells_a_reboot_by_monotonic_time():
    old = State("", T0, 5000.0, {"eth0": Counters(100, 100)}, frozenset({"eth0"}))
    same = step(old, reading(5010, eth0=(150, 150), wall=T0 + timedelta(seconds=10)), "h")
    assert bytes_of(same) == {"eth0": (50, 50)}
    rebooted = step(old, reading(20, eth0=(150, 150), wall=T0 + timedelta(seconds=60)), "h")
    assert bytes_of(rebooted) == {"eth0": (150, 150)}


def test_without_a_physical_interface_bridges_and_their_ports_are_not_counted(tmp_path):
    """An LXC/OpenVZ VPS with Docker: venet0 carries the traffic once; docker0 and the veths
    enslaved to it carry the containers' share of it again."""
    from netstats.agent.counters import bridged, choose_interfaces

    names = ["lo", "venet0", "docker0", "veth1a2b", "veth3c4d", "wg0"]
    (tmp_path / "docker0" / "bridge").mkdir(parents=True)
    for port in ("veth1a2b", "veth3c4d"):
        (tmp_path / port / "brport").mkdir(parents=True)
    virtual = frozenset(names)  # no physical interface at all
    chosen = choose_interfaces(names, [], [], virtual, bridged(names, tmp_path))
    assert chosen == ["venet0", "wg0"]


def test_net_dev_reads_proc_net_dev_as_the_kernel_writes_it(tmp_path):
    from netstats.agent.counters import NetDev

    net_dev = tmp_path / "dev"
    net_dev.write_text(
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets"
        " errs drop fifo colls carrier compressed\n"
        "    lo:   45648  512    0    0    0     0          0         0    45648  512"
        "    0    0    0     0       0          0\n"
        "  eth0:18446744073709551615 9 0 0 0 0 0 0 2237525 7 0 0 0 0 0 0\n"
        "wg-very-long-nm: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
        # a container host's two thousand veths: more than one read's worth
        + "".join(f" veth{i}: {i} 0 0 0 0 0 0 0 {2 * i} 0 0 0 0 0 0 0\n" for i in range(2000))
    )
    assert net_dev.stat().st_size > 65536
    got = NetDev(str(net_dev)).read()
    assert {k: got[k] for k in ("lo", "eth0", "wg-very-long-nm", "veth1999")} == {
        "lo": Counters(45648, 45648),
        "eth0": Counters(2237525, 2**64 - 1),  # sent, received: 64-bit counters stay exact
        "wg-very-long-nm": Counters(9, 1),
        "veth1999": Counters(3998, 1999),
    }
    assert len(got) == 2003


def test_net_dev_agrees_with_psutil_on_this_machine():
    import psutil

    from netstats.agent.counters import NetDev

    ours = NetDev().read()
    theirs = psutil.net_io_counters(pernic=True, nowrap=False)
    assert set(ours) == set(theirs)
    # counters only grow: psutil's read, a moment later, is never behind ours
    for name, c in ours.items():
        assert c.bytes_sent <= theirs[name].bytes_sent and c.bytes_recv <= theirs[name].bytes_recv


def test_a_link_removed_between_readings_counts_up_to_its_final_counters():
    """v0 (link 5) carried 600/900 more bytes before it was removed; a new v0 (link 9)
    then carried 40/70: both counted, nothing lost, nothing twice."""
    gone = Gone("v0", 5, Counters(5600, 7900))
    _, second, third = run(
        reading(100, v0=(5000, 7000), links={"v0": 5}),
        reading(110, v0=(40, 70), links={"v0": 9}, removed=(gone,)),
        reading(120, v0=(50, 90), links={"v0": 9}),
    )
    assert bytes_of(second) == {"v0": (600 + 40, 900 + 70)}
    assert bytes_of(third) == {"v0": (10, 20)}
    assert second.state.links == {"v0": 9}


def test_a_link_that_came_and_went_between_readings_counts_whole():
    _, second = run(
        reading(100, v0=(5000, 7000), links={"v0": 5}),
        reading(110, v0=(5100, 7100), links={"v0": 5}, removed=(Gone("c0", 12, Counters(3, 4)),)),
    )
    assert bytes_of(second) == {"c0": (3, 4), "v0": (100, 100)}


def test_a_removed_link_never_counts_a_final_counter_below_the_last_reading():
    """A veth's removal announces 0 received bytes (its peer, which counted them, is
    unlinked first): that is not a counter reset, and counts nothing."""
    _, second = run(
        reading(100, v0=(5000, 7000), links={"v0": 5}),
        reading(110, present=(), removed=(Gone("v0", 5, Counters(5600, 0)),)),
    )
    assert bytes_of(second) == {"v0": (600, 0)}
    assert second.warnings == []


def test_a_new_link_index_under_a_known_name_is_a_new_link_even_with_a_higher_counter():
    """The agent was down while v0 was replaced: no removal was seen, but the index tells."""
    _, second = run(
        reading(100, v0=(5000, 7000), links={"v0": 5}),
        reading(110, v0=(8000, 9000), links={"v0": 9}),
    )
    assert bytes_of(second) == {"v0": (8000, 9000)}


def test_link_indexes_of_another_boot_mean_nothing():
    _, second = run(
        reading(100, v0=(5000, 7000), links={"v0": 5}),
        reading(
            50,
            boot="another-boot",
            v0=(300, 400),
            links={"v0": 5},
            removed=(Gone("v0", 5, Counters(10, 20)),),
        ),
    )
    # after a reboot the counters cover the uptime; the removed link lived in it too
    assert bytes_of(second) == {"v0": (310, 420)}


def test_without_link_indexes_counting_is_as_before():
    """No rtnetlink (not Linux): a counter that went up is the same link."""
    _, second = run(reading(100, v0=(5000, 7000)), reading(110, v0=(8000, 9000)))
    assert bytes_of(second) == {"v0": (3000, 2000)}
