"""The kernel's announcements of links that come and go (Linux rtnetlink), so that an
interface removed between two ticks is still counted to the byte.

When a link is deleted (a container stopped, a VPN or WireGuard link torn down), the
kernel sends RTM_DELLINK with the link's final 64-bit counters; when one is created, it
sends RTM_NEWLINK with its index. An interface name can stand for several links in turn,
so the agent tells them apart by ifindex, which the kernel never gives two links at once.
The standard library's netlink socket is enough: one non-blocking recv per tick when
nothing happened.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from netstats.agent.deltas import Counters

RTMGRP_LINK = 1
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_STATS64 = 3, 10, 18, 23
IFLA_INFO_KIND = 1
HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
ATTR = struct.Struct("=HH")  # rtattr: length, type
STATS = struct.Struct("=4Q")  # rtnl_link_stats64 begins rx/tx packets, rx/tx bytes
BUFFER = 1 << 20  # room for the events of a burst of churn between two ticks


@dataclass(frozen=True, slots=True)
class Removed:
    """A link the kernel removed: its name, index and final counters."""

    name: str
    index: int
    counters: Counters
    virtual: bool  # it has a link kind (veth, bridge, wireguard, ...): no hardware
    bridged: bool  # a bridge, or enslaved to one


class Links:
    """Which link each interface name is now (`index`), and the links removed since the
    last `changes()`. Raises OSError where rtnetlink is not available (not Linux)."""

    def __init__(self) -> None:
        self.sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
        )
        weakref.finalize(self, self.sock.close)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
        self.sock.bind((0, RTMGRP_LINK))
        self.poll = select.poll()  # a look without an exception when nothing came: 1 us
        self.poll.register(self.sock, select.POLLIN)
        self.index: dict[str, int] = {}
        self.lost = False  # the kernel dropped announcements (the buffer overflowed)
        self._dump()

    def _dump(self) -> None:
        """Every link's index, asked of the kernel; announcements that arrive meanwhile are
        read too, in order, so none is skipped."""
        self.sock.send(
            HEADER.pack(HEADER.size + IFINFO.size, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
            + IFINFO.pack(0, 0, 0, 0, 0)
        )
        self.index.clear()
        done = False
        while not done:
            data = self.sock.recv(BUFFER)
            for kind, payload in _messages(data):
                if kind == NLMSG_DONE:
                    done = True
                elif kind == NLMSG_ERROR:
                    code = -struct.unpack_from("=i", payload)[0]
                    raise OSError(code, f"rtnetlink: {errno.errorcode.get(code, code)}")
                elif kind == RTM_NEWLINK:
                    name, index, _ = _link(payload)
                    self.index[name] = index

    def changes(self) -> tuple[list[str], list[Removed]]:
        """What happened since the last call, in the kernel's order: names (re)announced,
        and the links removed with their final counters. Reads without waiting."""
        announced: list[str] = []
        removed: list[Removed] = []
        while self.poll.poll(0):
            try:
                data = self.sock.recv(BUFFER, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                # Announcements were dropped: know every link's index again; a link removed
                # meanwhile is counted only up to the last tick.
                self.lost = True
                self._dump()
                continue
            for kind, payload in _messages(data):
                if kind not in (RTM_NEWLINK, RTM_DELLINK):
                    continue
                name, index, attrs = _link(payload)
                if kind == RTM_NEWLINK:
                    for old in [n for n, i in self.index.items() if i == index and n != name]:
                        del self.index[old]  # renamed
                    self.index[name] = index
                    announced.append(name)
                    continue
                if self.index.get(name) == index:
                    del self.index[name]
                if IFLA_STATS64 in attrs:
                    rx_packets, tx_packets, rx_bytes, tx_bytes = STATS.unpack_from(
                        attrs[IFLA_STATS64]
                    )
                    kind_of = _attrs(attrs.get(IFLA_LINKINFO, b"")).get(IFLA_INFO_KIND, b"")
                    removed.append(
                        Removed(
                            name,
                            index,
                            Counters(tx_bytes, rx_bytes),
                            virtual=bool(kind_of) or name == "lo",
                            bridged=kind_of.rstrip(b"\0") == b"bridge" or IFLA_MASTER in attrs,
                        )
                    )
        return announced, removed

    def wait_for(self, names: Iterable[str], timeout_s: float) -> list[Removed]:
        """The kernel lists a link no more a moment before it announces its removal: wait
        up to `timeout_s` for the announcements of links that were just seen to vanish."""
        missing = set(names)
        removed: list[Removed] = []
        deadline = time.monotonic() + timeout_s
        while missing and (left := deadline - time.monotonic()) > 0:
            self.poll.poll(left * 1000)
            gone = self.changes()[1]
            removed += gone
            missing -= {r.name for r in gone}
        return removed


def _messages(data: bytes) -> Iterable[tuple[int, bytes]]:
    offset = 0
    while offset + HEADER.size <= len(data):
        length, kind, _, _, _ = HEADER.unpack_from(data, offset)
        if length < HEADER.size:
            return
        yield kind, data[offset + HEADER.size : offset + length]
        offset += (length + 3) & ~3


def _link(payload: bytes) -> tuple[str, int, dict[int, bytes]]:
    _, _, index, _, _ = IFINFO.unpack_from(payload)
    attrs = _attrs(payload[IFINFO.size :])
    return attrs.get(IFLA_IFNAME, b"").rstrip(b"\0").decode(), index, attrs


def _attrs(data: bytes) -> dict[int, bytes]:
    attrs = {}
    offset = 0
    while offset + ATTR.size <= len(data):
        length, kind = ATTR.unpack_from(data, offset)
        if length < ATTR.size:
            break
        attrs[kind & 0x3FFF] = data[offset + ATTR.size : offset + length]  # minus NLA_F_* bits
        offset += (length + 3) & ~3
    return attrs
