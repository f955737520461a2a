"""deploy/: the compose file and image the README's "Docker and Pterodactyl" section names.
Docker cannot pull or build images here (no registry): what can be checked is checked, the
YAML and its wiring, the settings it names, and the image's command and spool."""

import re
import shlex
from pathlib import Path

import yaml

from tests.support.cli import netstats

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())
README = (ROOT / "README.md").read_text()
DOCKERFILE = (ROOT / "deploy/Dockerfile").read_text()


def documented() -> set[str]:
    """The settings README's Configuration table names."""
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`((?:NETSTATS|SUPABASE|DISCORD)_[A-Z_]+)`", table))


def test_the_sidecar_shares_the_bots_network_and_keeps_its_spool_on_a_volume():
    services = COMPOSE["services"]
    agent = services["netstats-agent"]
    assert agent["network_mode"] == "service:bot" and agent["depends_on"] == ["bot"]
    assert "ports" not in agent  # it serves nothing
    spool = Path(agent["environment"]["NETSTATS_SPOOL"])
    volumes = {v.split(":")[1]: v.split(":")[0] for v in agent["volumes"]}
    assert str(spool.parent) in volumes and volumes[str(spool.parent)] in COMPOSE["volumes"]
    host = services["netstats-agent-host"]
    assert host["network_mode"] == "host" and host["profiles"] == ["host"]
    assert host["volumes"][0].split(":")[0] != agent["volumes"][0].split(":")[0]  # own spools
    for service in (agent, host):
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["restart"] == "unless-stopped"
        assert service["stop_grace_period"] == "20s"  # the final sample and flush


def test_every_setting_the_compose_file_names_is_one_netstats_reads():
    named = {
        name for service in COMPOSE["services"].values() for name in service.get("environment", {})
    }
    assert named and named <= documented(), named - documented()
    # a missing database is a clear error from compose, before any container starts
    url = COMPOSE["services"]["netstats-agent"]["environment"]["NETSTATS_DATABASE_URL"]
    assert url.startswith("${NETSTATS_DATABASE_URL:?set NETSTATS_DATABASE_URL")


def test_the_image_runs_the_agent_with_its_spool_on_the_volume():
    lines = [line for line in DOCKERFILE.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    env = dict(line.split()[1].split("=", 1) for line in lines if line.startswith("ENV "))
    (volume,) = [line.split()[1] for line in lines if line.startswith("VOLUME ")]
    assert str(Path(env["NETSTATS_SPOOL"]).parent) == volume
    assert (
        env["NETSTATS_SPOOL"]
        == COMPOSE["services"]["netstats-agent"]["environment"]["NETSTATS_SPOOL"]
    )
    (install,) = [line for line in lines if line.startswith("RUN pip install")]
    assert "'/src[agent]'" in shlex.split(install, posix=False)
    entry = [line for line in lines if line.startswith(("ENTRYPOINT", "CMD"))]
    assert entry == ['ENTRYPOINT ["netstats"]', 'CMD ["agent"]']
    assert netstats("agent", "--help").returncode == 0  # what the image runs exists


def test_the_readme_names_both_ways_and_what_each_counts():
    section = README.split("## Docker and Pterodactyl", 1)[1].split("\n## ", 1)[0]
    for words in ('network_mode: "service:bot"', "network_mode: host", "deploy/docker-compose.yml",
                  "NETSTATS_AGENT_IN_BOT=1", "netstats agent status", "cannot be pulled"):  # fmt: skip
        assert words in section, words
