"""What the agent says it counts: this machine, a container's own traffic, a container on
the host's network, or a network namespace of its own. Containers' signs are files: a fake
root stands in for them; the namespace case runs the real command in one."""

import subprocess
import sys

import pytest

from netstats.agent.scope import Scope, detect
from tests.support.netns import make_namespace, sh


def root_with(tmp_path, *files: str, cgroup: str = "0::/init.scope\n"):
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/cgroup").write_text(cgroup)
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    return tmp_path


@pytest.mark.parametrize(
    ("files", "cgroup", "interfaces", "expected"),
    [
        ((), "0::/init.scope\n", ["eth0"], Scope("host")),
        ((".dockerenv",), "0::/\n", ["eth0"], Scope("container", "docker")),
        ((".dockerenv",), "0::/\n", ["eth0", "docker0", "veth12ab"],
         Scope("container-host-network", "docker")),
        (("run/.containerenv",), "0::/\n", ["tap0"], Scope("container", "podman")),
        ((), "12:memory:/kubepods/burstable/pod1/abc\n", ["eth0"], Scope("container", "kubernetes")),
        ((), "0::/system.slice/containerd.service\n", [], Scope("container", "containerd")),
    ],
)  # fmt: skip
def test_container_signs_name_what_is_counted(tmp_path, files, cgroup, interfaces, expected):
    assert detect(interfaces, root_with(tmp_path, *files, cgroup=cgroup)) == expected


def test_each_scope_says_what_it_counts_in_one_line():
    assert Scope("host").describe() == "this machine's interfaces"
    container = Scope("container", "docker").describe()
    assert container.startswith("this container's own traffic (docker: its network namespace")
    assert "network_mode: host" in container
    assert "host's interfaces" in Scope("container-host-network", "docker").describe()


def test_status_in_a_network_namespace_of_its_own_says_so(tmp_path):
    ns = make_namespace()
    try:
        shown = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "netstats.cli", "agent", "status"],
            env={"NETSTATS_SPOOL": str(tmp_path / "none.sqlite3"), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        sh("ip", "netns", "delete", ns)
    assert shown.splitlines()[0] == (
        "scope          the traffic of this network namespace only (not the one PID 1 runs "
        "in): other namespaces' traffic is not counted"
    )
    here = subprocess.run(
        [sys.executable, "-m", "netstats.cli", "agent", "status"],
        env={"NETSTATS_SPOOL": str(tmp_path / "none.sqlite3"), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert here.splitlines()[0] == f"scope          {detect().describe()}"
