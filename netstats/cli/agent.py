"""`netstats agent`: sample this machine's interfaces and upload; its spool's status, and
sending quarantined samples again."""

from __future__ import annotations

import argparse
import os

from netstats.cli.args import Commands, until_stopped
from netstats.config import AgentSettings, Database


def add(commands: Commands) -> None:
    agent = commands.add_parser("agent", help="sample this machine's interfaces and upload")
    agent.add_argument("--once", action="store_true", help="one tick and one upload, then exit")
    agent.add_argument("--interval", type=float, help="seconds between samples (1-3600)")
    agent.set_defaults(run=run)
    agent_commands = agent.add_subparsers(dest="agent_command")
    status_ = agent_commands.add_parser(
        "status", help="what it counts, spool depth, quarantined samples, last upload, interfaces"
    )
    status_.set_defaults(run=status)
    requeue_ = agent_commands.add_parser(
        "requeue", help="send quarantined samples again (after fixing the clock or the database)"
    )
    requeue_.set_defaults(run=requeue)


def settings(args: argparse.Namespace) -> AgentSettings:
    env = dict(os.environ)
    if getattr(args, "interval", None) is not None:
        env["NETSTATS_INTERVAL"] = str(args.interval)
    return AgentSettings.from_env(env)


def run(args: argparse.Namespace) -> None:
    from netstats.agent import Agent
    from netstats.agent.transports import connect

    chosen = settings(args)
    agent = Agent(chosen, connect(Database.from_env()))
    try:
        if args.once:
            agent.tick()
            agent.flush(deadline=agent.clock() + chosen.interval_s)
            return
        agent.run(until_stopped())
    finally:
        agent.close()


def status(args: argparse.Namespace) -> None:
    from netstats.agent.scope import detect
    from netstats.agent.spool import Spool
    from netstats.units import human_bytes

    chosen = settings(args)
    if not chosen.spool.exists():
        print(f"scope          {detect().describe()}")
        print(f"no spool at {chosen.spool}: the agent has not run here yet (NETSTATS_SPOOL)")
        return
    spool = Spool.read_only(chosen.spool)
    found = spool.status()
    spool.close()
    print(f"scope          {detect().describe()}")
    print(f"spool          {chosen.spool}")
    print(
        f"queued         {found.depth} samples"
        + (f", oldest from {found.oldest:%Y-%m-%d %H:%M:%S} UTC" if found.oldest else "")
    )
    print(f"last upload    {found.last_upload or 'never'}")
    print(f"quarantined    {len(found.quarantined)} samples")
    for q in found.quarantined:
        print(f"  {q.sample.iface} {q.sample.sampled_at:%Y-%m-%d %H:%M:%S}: {q.error}")
    if found.state is not None:
        print(f"last sample    {found.state.sampled_at:%Y-%m-%d %H:%M:%S} UTC")
        for iface, c in sorted(found.state.counters.items()):
            print(
                f"  {iface:<14} sent {human_bytes(c.bytes_sent):>10}   "
                f"received {human_bytes(c.bytes_recv):>10}   (kernel counters)"
            )


def requeue(args: argparse.Namespace) -> None:
    from netstats.agent.spool import Spool

    spool = Spool(settings(args).spool)
    try:
        moved = spool.requeue()
    finally:
        spool.close()
    print(f"{moved} quarantined samples queued again; the agent sends them at its next upload")
