"""What the agent's counters cover. The kernel's interface counters are those of the network
namespace the agent runs in: on a machine, its interfaces; in a Docker or Pterodactyl
container, the container's own traffic only (its veth), not the host's and not the other
containers'. The agent says which once when it starts, and `netstats agent status` shows it.

Signs read, none of them certain alone: /.dockerenv (Docker, and Pterodactyl's Wings, which
runs servers in Docker), /run/.containerenv (Podman), a container runtime in PID 1's cgroup
(docker, kubepods, containerd, libpod, lxc), and whether this process's network namespace is
PID 1's. A container that shares the host's network (`network_mode: host`) still sees the
host's interfaces: seeing docker0 or a veth says so."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RUNTIMES = ("kubepods", "docker", "libpod", "containerd", "lxc")  # as cgroup paths name them
HOST_SIDE = ("docker0", "veth", "cni0", "br-")  # interfaces only the host's namespace has


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str  # host, container, container-host-network, namespace
    runtime: str | None = None  # docker, podman, kubernetes, containerd, lxc

    def describe(self) -> str:
        if self.kind == "container":
            return (
                f"this container's own traffic ({self.runtime}: its network namespace, not the "
                "host's); to count the whole machine, run the agent on the host or in a "
                "container with network_mode: host"
            )
        if self.kind == "container-host-network":
            return f"the host's interfaces (a {self.runtime} container on the host's network)"
        if self.kind == "namespace":
            return (
                "the traffic of this network namespace only (not the one PID 1 runs in): "
                "other namespaces' traffic is not counted"
            )
        return "this machine's interfaces"


def detect(interfaces: Iterable[str] | None = None, root: Path = Path("/")) -> Scope:
    """The scope of the counters this process reads; `interfaces`: every name it sees
    (default: the kernel's list, counted or not)."""
    if _own_namespace(root):  # whatever PID 1 is: what it sees is not what this counts
        return Scope("namespace")
    runtime = _runtime(root)
    if runtime is not None:
        if interfaces is None:
            interfaces = [name for _, name in socket.if_nameindex()]
        host_side = any(name.startswith(HOST_SIDE) for name in interfaces)
        return Scope("container-host-network" if host_side else "container", runtime)
    return Scope("host")


def _runtime(root: Path) -> str | None:
    if (root / ".dockerenv").exists():
        return "docker"
    if (root / "run/.containerenv").exists():
        return "podman"
    try:
        cgroup = (root / "proc/1/cgroup").read_text()
    except OSError:
        return None
    for name in RUNTIMES:
        if name in cgroup:
            return {"kubepods": "kubernetes", "libpod": "podman"}.get(name, name)
    return None


def _own_namespace(root: Path) -> bool:
    """True when this process's network namespace is not PID 1's, or is one `ip netns`
    named (/run/netns/NAME, where `ip netns exec` runs). False when it cannot tell."""
    ours = root / "proc/self/ns/net"
    try:
        return os.readlink(ours) != os.readlink(root / "proc/1/ns/net")
    except OSError:  # PID 1's is not ours to read (another user, a locked-down init)
        pass
    try:
        mine = ours.stat()
        named = [p.stat() for p in (root / "run/netns").iterdir()]
    except OSError:
        return False
    return any((n.st_dev, n.st_ino) == (mine.st_dev, mine.st_ino) for n in named)
