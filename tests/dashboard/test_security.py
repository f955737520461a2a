"""Who may see the dashboard, and odd input: every refusal is a 4xx with JSON, never a 500."""

import time

import httpx
import pytest

from netstats.dashboard import DashboardSettings
from netstats.errors import ConfigError
from tests.dashboard.server import Server
from tests.support.cli import free_port

TOKEN = "kQ3v9Zp2Lr7Xw4Nt8Bj6Hd1Fs5Gm0Yc-Ue"


@pytest.fixture
def gated(migrated):
    with Server(DashboardSettings(migrated["pg15"], port=free_port(), token=TOKEN)) as running:
        yield running


@pytest.fixture
def open_loopback(migrated):
    with Server(DashboardSettings(migrated["pg15"], port=free_port())) as running:
        yield running


@pytest.mark.parametrize(
    "token", ["a", "long-random-secret", "a" * 64, "abcdefgh" * 4, "0123456789" * 3]
)
def test_weak_tokens_are_refused_with_a_way_to_make_one(migrated, token):
    with pytest.raises(ConfigError, match=r"too easy to guess .*secrets\.token_urlsafe"):
        DashboardSettings(migrated["pg15"], bind="0.0.0.0", token=token)


def test_odd_tokens_are_401_not_500(gated):
    for value in ("Bearer pässwörd", "Bearer \u2603" * 3, "Bearer x"):
        response = httpx.get(gated.url + "/api/totals", headers={"Authorization": value.encode()})
        assert response.status_code == 401, value
        assert "token is required" in response.json()["error"]
    response = httpx.get(
        gated.url + "/api/totals", headers={"Cookie": "netstats_session=ünïcode".encode()}
    )
    assert response.status_code == 401


def test_a_non_ascii_token_works(migrated):
    token = "zß9ü€Q2wE4rT6yU8iO0pA1sD3fG5hJ7kL"
    with Server(DashboardSettings(migrated["pg15"], port=free_port(), token=token)) as running:
        response = httpx.get(
            running.url + "/api/hosts", headers={"Authorization": f"Bearer {token}".encode()}
        )
        assert response.status_code == 200


def test_login_with_invalid_utf8_is_a_400(gated):
    response = httpx.post(
        gated.url + "/login",
        content=b"token=%FF%FE\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "token: expected a UTF-8 form"}


def test_the_session_cookie_is_signed_not_the_token_and_secure_behind_https(gated):
    with httpx.Client(base_url=gated.url) as client:
        response = client.post(
            "/login", data={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"}
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert TOKEN not in cookie
        assert "Secure" in cookie and "HttpOnly" in cookie and "Max-Age=604800" in cookie
        session = response.cookies["netstats_session"]
        client.cookies.clear()
        assert (
            client.get("/api/hosts", headers={"Cookie": f"netstats_session={session}"}).status_code
            == 200
        )
        forged = session[:-2] + ("AA" if not session.endswith("AA") else "BB")
        assert (
            client.get("/api/hosts", headers={"Cookie": f"netstats_session={forged}"}).status_code
            == 401
        )
        plain = client.post("/login", data={"token": TOKEN})
        assert "Secure" not in plain.headers["set-cookie"]


def test_wrong_tokens_are_slowed_after_five_a_minute(gated):
    with httpx.Client(base_url=gated.url) as client:
        for _ in range(5):
            wrong = client.get("/api/totals", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
        slowed = client.get("/api/totals", headers={"Authorization": f"Bearer {TOKEN}"})
        assert slowed.status_code == 429
        assert 0 < int(slowed.headers["Retry-After"]) <= 60
        assert "too many wrong tokens" in slowed.json()["error"]
        assert client.post("/login", data={"token": TOKEN}).status_code == 429


def test_the_login_page_and_its_stylesheet_need_no_token(gated):
    for path in ("/login", "/static/style.css", "/static/favicon.svg"):
        assert httpx.get(gated.url + path).status_code == 200, path
    assert httpx.get(gated.url + "/static/app.js").status_code == 401


def test_without_a_token_only_requests_addressed_to_this_machine_are_served(open_loopback):
    port = open_loopback.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "127.0.0.1"):
        response = httpx.get(open_loopback.url + "/api/hosts", headers={"Host": host})
        assert response.status_code == 200, host
    for host in (f"evil.example:{port}", "attacker.test", f"127.0.0.1.evil.example:{port}"):
        response = httpx.get(open_loopback.url + "/api/hosts", headers={"Host": host})
        assert response.status_code == 421, host
        assert response.json()["error"].startswith("Host: expected")


@pytest.mark.parametrize("query", ["tz=Asia%2FTokyo%00", "host=bot%00-1", "iface=%00", "tz=%00"])
def test_nul_in_a_filter_is_a_400_naming_it(open_loopback, query):
    for path in ("/api/totals", "/api/history") + (() if "tz" in query else ("/api/live",)):
        response = httpx.get(f"{open_loopback.url}{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert "without NUL" in response.json()["error"]


def test_streams_are_bounded(migrated):
    settings = DashboardSettings(migrated["pg15"], port=free_port(), max_streams=2)
    with Server(settings) as running, httpx.Client(base_url=running.url, timeout=10) as client:
        with (
            client.stream("GET", "/api/stream") as first,
            client.stream("GET", "/api/stream?host=bot-1") as second,
        ):
            assert first.status_code == second.status_code == 200
            third = client.get("/api/stream")
            assert third.status_code == 503 and third.headers["Retry-After"] == "30"
            assert "live streams are open already" in third.json()["error"]
        # closed streams free their places, as soon as the server sees the disconnect
        deadline = time.monotonic() + 5
        while True:
            with client.stream("GET", "/api/stream") as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "closed streams were not released"
            time.sleep(0.1)
