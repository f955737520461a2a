"""Which cgroups NETSTATS_SERVICES names, on either cgroup v2 layout, and the names the
agent's nftables counters get: no kernel needed."""

import pytest

from netstats.agent.services import cgroup2_root, counter_name, match
from netstats.config import AgentSettings
from netstats.errors import ConfigError

UNIFIED = """\
25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw
31 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
"""
HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


@pytest.mark.parametrize(
    "mountinfo, root",
    [(UNIFIED, "/sys/fs/cgroup"), (HYBRID, "/sys/fs/cgroup/unified"), ("", None)],
)
def test_the_cgroup2_root_is_found_on_either_layout(tmp_path, mountinfo, root):
    (tmp_path / "mountinfo").write_text(mountinfo)
    found = cgroup2_root(tmp_path / "mountinfo")
    assert (str(found) if found else None) == root


def test_units_by_name_paths_and_globs_match_their_cgroups(tmp_path):
    for d in (
        "system.slice/mybot.service",
        "system.slice/otherbot.service",
        "system.slice/postgresql.service",
        "user.slice/user-1000.slice/mybot.service",
    ):
        (tmp_path / d).mkdir(parents=True)
    found = match(["mybot.service", "system.slice/*bot*.service"], tmp_path)
    assert [(c.service, c.path) for c in found] == [
        ("mybot.service", "system.slice/mybot.service"),
        ("otherbot.service", "system.slice/otherbot.service"),
        # a unit by name, wherever it runs: both count as mybot.service
        ("mybot.service", "user.slice/user-1000.slice/mybot.service"),
    ]


def test_counter_names_are_nft_identifiers_and_keep_services_apart():
    assert counter_name("out", "mybot.service") == "out_mybot.service"
    assert counter_name("in", "getty@tty1.service") == "in_getty_40tty1.service"
    assert counter_name("out", "a_b") != counter_name("out", "a@b")


def test_a_service_outside_the_cgroup_tree_is_refused_naming_the_variable():
    with pytest.raises(ConfigError, match=r"^NETSTATS_SERVICES: expected unit names .* '\.\./x'"):
        AgentSettings.from_env({"NETSTATS_SERVICES": "mybot.service, ../x"})
    assert AgentSettings.from_env({"NETSTATS_SERVICES": "a.service, b/*.scope"}).services == (
        "a.service",
        "b/*.scope",
    )
