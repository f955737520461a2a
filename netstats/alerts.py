"""Alerts into Discord: a deliverer claims what the database raised (netstats_alerts_claim)
and posts each as an embed, to a webhook (NETSTATS_DISCORD_WEBHOOK, no bot needed) or a
bot's channel. The database decides what is due and hands each alert to one deliverer at a
time; this side only renders it, in English or Japanese, and honours Discord's rules.

    2026-11-29 10:00:00 INFO netstats.alerts delivered quota_threshold 'plan' 80% (1 alert)
    2026-11-29 10:00:30 WARNING netstats.alerts Discord is rate limiting: 2.1 s, as it asks
    2026-11-29 10:01:00 ERROR netstats.alerts the Discord webhook answered 404 Not Found: it
        was deleted or its URL is wrong; alerts wait (netstats alerts status) until
        NETSTATS_DISCORD_WEBHOOK is fixed and this deliverer restarted
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from netstats.reader import Alert, Reader
from netstats.units import human_bytes, human_rate, money, percent

log = logging.getLogger(__name__)

EVERY_S = 30.0  # between passes: a raised alert reaches Discord within this
BATCH = 20
TRIES = 4  # per alert and pass, for 429s and 5xx answers
MAX_WAIT_S = 60.0  # a longer rate limit ends the pass; the alert is due again

RED, ORANGE, GREEN = 0xE5484D, 0xF5A524, 0x27AE60

TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "quota_threshold": "Quota “{quota}”: {threshold}% used",
        "quota_projection": "Quota “{quota}”: on course to exceed its limit",
        "plan_threshold": "Plan “{quota}”: {threshold}% used",
        "plan_projection": "Plan “{quota}”: on course to exceed its allowance",
        "plan_budget": "Plan “{quota}”: projected cost {cost} above the budget of {budget}",
        "host_silent": "{host} has gone silent",
        "host_back": "{host} reports again",
        "used": "{used} of {limit} ({percent}) {direction} {period}",
        "direction": {
            "sent": "sent",
            "recv": "received",
            "total": "sent and received",
            "max": "the larger of sent and received",
        },
        "period": {
            "day": "today",
            "week": "this week",
            "month": "this month",
            "year": "this year",
            "cycle": "this billing cycle",
            None: "this cycle",
        },
        "cost": "Cost so far",
        "projected_cost": "Projected cost",
        "corrected": "incl. a correction of {bytes}",
        "remaining": "Remaining",
        "projected": "Projected by the end",
        "exceeds": "Limit reached at this rate",
        "allowance": "Daily allowance",
        "ends": "Period ends",
        "scope": "Scope",
        "all": "all hosts and interfaces",
        "silent": "No samples since {since} ({minutes} min).",
        "back": "Silent from {since} to {back}.",
        "never": "not this period",
        "reached": "reached",
        "digest": "Traffic {period} · {digest}",
        "digest_periods": {
            "day": "yesterday",
            "week": "last week",
            "month": "last month",
            "cycle": "last billing cycle",
        },
        "digest_window": "<t:{start}:f> → <t:{end}:f>",
        "late": "Posted late: the period ended <t:{end}:R>, while no deliverer ran.",
        "sent": "Sent",
        "received": "Received",
        "total": "Total",
        "change": "{pct} against the period before",
        "no_change": "nothing the period before",
        "top_day": "Top days",
        "top_hour": "Top hours",
        "top_hosts": "Top hosts",
        "p95": "95th percentile",
        "plans": "Plans",
        "plan_line": "{name}: {used} of {included}{cost}",
        "unlimited": "no limit",
    },
    "ja": {
        "quota_threshold": "クォータ「{quota}」: {threshold}% に到達",
        "quota_projection": "クォータ「{quota}」: このままでは上限を超えます",
        "plan_threshold": "プラン「{quota}」: {threshold}% に到達",
        "plan_projection": "プラン「{quota}」: このままでは無料枠を超えます",
        "plan_budget": "プラン「{quota}」: 予測費用 {cost} が予算 {budget} を超えます",
        "host_silent": "{host} からの報告が途絶えました",
        "host_back": "{host} からの報告が再開しました",
        "used": "{period}の{direction}: {used} / {limit}（{percent}）",
        "direction": {
            "sent": "送信量",
            "recv": "受信量",
            "total": "送受信量",
            "max": "送信量と受信量の多い方",
        },
        "period": {
            "day": "今日",
            "week": "今週",
            "month": "今月",
            "year": "今年",
            "cycle": "請求サイクル",
            None: "今サイクル",
        },
        "cost": "現在までの費用",
        "projected_cost": "予測費用",
        "corrected": "補正 {bytes} を含む",
        "remaining": "残り",
        "projected": "期間末の予測",
        "exceeds": "このペースでの上限到達",
        "allowance": "1日あたりの残り",
        "ends": "期間の終わり",
        "scope": "対象",
        "all": "すべてのホストとインターフェース",
        "silent": "{since} 以降サンプルがありません（{minutes} 分）。",
        "back": "{since} から {back} まで途絶えていました。",
        "never": "今期は到達しません",
        "reached": "到達済み",
        "digest": "{period}の通信量 · {digest}",
        "digest_periods": {
            "day": "昨日",
            "week": "先週",
            "month": "先月",
            "cycle": "前の請求サイクル",
        },
        "digest_window": "<t:{start}:f> → <t:{end}:f>",
        "late": "遅れて投稿しました：期間は <t:{end}:R> に終わりましたが、配信役が動いていませんでした。",
        "sent": "送信",
        "received": "受信",
        "total": "合計",
        "change": "前の期間比 {pct}",
        "no_change": "前の期間は 0",
        "top_day": "通信の多い日",
        "top_hour": "通信の多い時間",
        "top_hosts": "通信の多いホスト",
        "p95": "95パーセンタイル",
        "plans": "プラン",
        "plan_line": "{name}: {used} / {included}{cost}",
        "unlimited": "無制限",
    },
}


def embed(alert: Alert, lang: str = "en", tz: str = "UTC") -> dict[str, Any]:
    """The Discord embed (as JSON) of one alert. Every figure comes from the alert's facts,
    which netstats_quotas computed; quota times are in the quota's zone, host times in `tz`."""
    text = TEXT.get(lang, TEXT["en"])
    f = alert.facts
    if alert.kind == "digest":
        return digest(f, text, lang, alert.raised_at)
    if alert.kind in ("host_silent", "host_back"):
        zone = ZoneInfo(tz)

        def when(key: str) -> str:
            return f"{datetime.fromisoformat(f[key]).astimezone(zone):%Y-%m-%d %H:%M} {tz}"

        if alert.kind == "host_silent":
            minutes = round(f["silent_after_s"] / 60)
            body = text["silent"].format(since=when("last_seen"), minutes=minutes)
        else:
            body = text["back"].format(since=when("silent_since"), back=when("back_at"))
        return {
            "title": text[alert.kind].format(host=alert.host),
            "description": body,
            "color": RED if alert.kind == "host_silent" else GREEN,
            "timestamp": alert.raised_at.isoformat(),
        }
    zone = ZoneInfo(f["tz"])

    def local(key: str) -> str:
        return f"{datetime.fromisoformat(f[key]).astimezone(zone):%Y-%m-%d %H:%M} {f['tz']}"

    scope = (
        text["all"]
        if f["host"] is None and f["iface"] is None and not f.get("hosts")
        else f"{', '.join(f.get('hosts') or []) or f['host'] or '*'} · {f['iface'] or '*'}"
    )
    # Facts from before plans (revision 0014) have no adjust_bytes, cost or period null.
    adjust = int(f.get("adjust_bytes") or 0)
    currency = f.get("currency")
    fields = [
        (text["remaining"], human_bytes(f["remaining_bytes"])),
        (
            text["projected"],
            "—" if f["projected_bytes"] is None else human_bytes(f["projected_bytes"]),
        ),
        (
            text["exceeds"],
            text["reached"]
            if f["used_ratio"] >= 1
            else local("projected_exceed_at")
            if f["projected_exceed_at"]
            else text["never"],
        ),
        (
            text["allowance"],
            "—" if f["daily_allowance_bytes"] is None else human_bytes(f["daily_allowance_bytes"]),
        ),
        *(
            [
                (text["cost"], money(f["cost_so_far"], currency, lang)),
                (
                    text["projected_cost"],
                    "—"
                    if f["projected_cost"] is None
                    else money(f["projected_cost"], currency, lang),
                ),
            ]
            if currency
            else []
        ),
        (text["ends"], local("period_end")),
        (text["scope"], scope),
    ]
    crossed = f["used_ratio"] >= 1 or (alert.threshold or 0) >= 100 or alert.kind == "plan_budget"
    plan = f.get("period", "cycle") is None
    title = text[alert.kind.replace("quota_", "plan_") if plan else alert.kind]
    description = text["used"].format(
        used=human_bytes(int(f["used_bytes"]) + adjust),
        limit=human_bytes(f["limit_bytes"]),
        percent=percent(f["used_ratio"]),
        direction=text["direction"][f["direction"]],
        period=text["period"][f.get("period", "cycle")],
    )
    if adjust:
        description += f" ({text['corrected'].format(bytes=('+' if adjust > 0 else '-') + human_bytes(abs(adjust)))})"
    return {
        "title": title.format(
            quota=alert.quota,
            threshold=alert.threshold,
            cost=currency and money(f["projected_cost"], currency, lang),
            budget=currency and f["budget"] is not None and money(f["budget"], currency, lang),
        ),
        "description": description,
        "color": RED if crossed else ORANGE,
        "fields": [{"name": n, "value": v, "inline": True} for n, v in fields],
        "timestamp": alert.raised_at.isoformat(),
    }


LATE_AFTER_S = 15 * 60  # a digest posted later than this after its period says so


def digest(
    f: dict[str, Any], text: dict[str, Any], lang: str, raised_at: datetime
) -> dict[str, Any]:
    """A period's digest (netstats.digest_facts): totals against the period before, the top
    days or hours and hosts, the 95th percentile, the plans. Times are Discord timestamps:
    each reader sees their own zone."""
    start = int(datetime.fromisoformat(f["period_start"]).timestamp())
    end = int(datetime.fromisoformat(f["period_end"]).timestamp())
    totals, before = f["totals"], f["previous"]
    description = text["digest_window"].format(start=start, end=end)
    if time.time() - end > LATE_AFTER_S:
        description += "\n" + text["late"].format(end=end)

    def change(key: str) -> str:
        if not before[key]:
            return str(text["no_change"])
        return str(text["change"]).format(pct=f"{(totals[key] - before[key]) / before[key]:+.1%}")

    fields = [
        (text[name], f"{human_bytes(totals[key])}\n{change(key)}")
        for name, key in (
            ("sent", "bytes_sent"),
            ("received", "bytes_recv"),
            ("total", "bytes_total"),
        )
    ]
    if f["top"]:
        zone = ZoneInfo(f["tz"])
        shape = "%Y-%m-%d %H:00" if f["top_by"] == "hour" else "%Y-%m-%d"
        rows = [
            f"{datetime.fromisoformat(t['bucket_start']).astimezone(zone):{shape}} · "
            f"{human_bytes(t['bytes_total'])}"
            for t in f["top"]
        ]
        fields.append((text[f"top_{f['top_by']}"], "\n".join(rows)))
    if f["top_hosts"]:
        rows = [f"{t['key']} · {human_bytes(t['bytes_total'])}" for t in f["top_hosts"]]
        fields.append((text["top_hosts"], "\n".join(rows)))
    p = f["percentile"]
    if p and p.get("total_bytes_per_s") is not None:
        fields.append((text["p95"], human_rate(p["total_bytes_per_s"])))
    if f["plans"]:
        rows = []
        for plan in f["plans"]:
            used = int(plan["used_bytes"]) + int(plan["adjust_bytes"] or 0)
            included = (
                text["unlimited"]
                if plan["included_bytes"] is None
                else human_bytes(plan["included_bytes"])
            )
            cost = (
                f" · {money(plan['projected_cost'], plan['currency'], lang)}"
                if plan["currency"] and plan["projected_cost"] is not None
                else ""
            )
            rows.append(
                text["plan_line"].format(
                    name=plan["name"], used=human_bytes(used), included=included, cost=cost
                )
            )
        fields.append((text["plans"], "\n".join(rows)))
    return {
        "title": text["digest"].format(
            period=text["digest_periods"][f["period"]], digest=f["digest"]
        ),
        "description": description,
        "color": GREEN,
        "fields": [
            {"name": n, "value": v[:1024], "inline": i < 3} for i, (n, v) in enumerate(fields)
        ],
        "timestamp": raised_at.isoformat(),
    }


PICTURE = "netstats.png"  # the attachment's name, which the embed's image points at


async def picture(reader: Reader, alert: Alert) -> bytes | None:
    """A digest's chart (the one /netstats sends) of its period; None for other alerts, an
    empty period, or without the `chart` extra."""
    if alert.kind != "digest":
        return None
    from netstats import chart
    from netstats.reader import Scope

    f = alert.facts
    start, end = (datetime.fromisoformat(f[k]) for k in ("period_start", "period_end"))
    title = f"{f['digest']} · {start.astimezone(ZoneInfo(f['tz'])):%Y-%m-%d} ({f['tz']})"
    return await chart.window_png(reader, Scope(tz=f["tz"]), start, end, title)


class Broken(Exception):
    """The destination refuses for good (a deleted webhook): stop sending to it."""


class Failed(Exception):
    """This attempt failed; the alert is due again at the next pass."""


class Webhook:
    """A Discord webhook, over the standard library's HTTP client (no extra to install).
    Its URL holds a secret token: it never appears in a log line or an error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.not_before = 0.0  # the bucket is empty until then (X-RateLimit-*)

    def __repr__(self) -> str:
        return "Webhook(…)"

    async def send(self, message: dict[str, Any], png: bytes | None = None) -> None:
        await asyncio.to_thread(self._send, message, png)

    def _send(self, message: dict[str, Any], png: bytes | None = None) -> None:
        payload = {"embeds": [message], "allowed_mentions": {"parse": []}}
        if png is None:
            body, kind = json.dumps(payload).encode(), "application/json"
        else:  # the picture as an attachment, which the embed's image names
            message["image"] = {"url": f"attachment://{PICTURE}"}
            payload["attachments"] = [{"id": 0, "filename": PICTURE}]
            body, kind = _multipart(payload, png)
        for attempt in range(TRIES):
            if (wait := self.not_before - time.monotonic()) > 0:
                time.sleep(wait)
            request = urllib.request.Request(
                f"{self.url}?wait=true",
                data=body,
                headers={"Content-Type": kind, "User-Agent": "netstats"},
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as response:
                    self._bucket(response.headers)
                    return
            except urllib.error.HTTPError as answer:
                self._bucket(answer.headers)
                status = f"{answer.code} {answer.reason}"
                if answer.code in (401, 403, 404):
                    raise Broken(
                        f"the Discord webhook answered {status}: it was deleted or its URL is "
                        "wrong; alerts wait (netstats alerts status) until "
                        "NETSTATS_DISCORD_WEBHOOK is fixed and this deliverer restarted"
                    ) from None
                if answer.code == 429:
                    wait = _retry_after(answer)
                    if wait > MAX_WAIT_S:
                        raise Failed(f"Discord asks to wait {wait:.0f} s (429)") from None
                    log.warning("Discord is rate limiting: %.1f s, as it asks", wait)
                    self.not_before = time.monotonic() + wait
                    error = "Discord kept answering 429 Too Many Requests"
                    continue
                if answer.code < 500:
                    raise Failed(f"Discord answered {status}: {_first(answer)}") from None
                error = f"Discord answered {status}"
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                error = f"cannot reach Discord ({reason})"
            # 5xx and network errors: back off with jitter, then leave it to the next pass
            if attempt < TRIES - 1:
                time.sleep(random.uniform(0, 2.0**attempt))
        raise Failed(error)

    def _bucket(self, headers: Message[str, str]) -> None:
        """Discord says how many requests the bucket has left and when it refills."""
        if headers.get("X-RateLimit-Remaining") == "0":
            after = float(headers.get("X-RateLimit-Reset-After") or 0)
            self.not_before = max(self.not_before, time.monotonic() + after)


def _multipart(payload: dict[str, Any], png: bytes) -> tuple[bytes, str]:
    """multipart/form-data as Discord takes a message with a file: the JSON in payload_json,
    the file in files[0]."""
    boundary = f"netstats-{random.getrandbits(64):016x}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\n'
        f"Content-Type: application/json\r\n\r\n".encode()
        + json.dumps(payload).encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="files[0]"; '
        f'filename="{PICTURE}"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + png,
    ]
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _retry_after(answer: urllib.error.HTTPError) -> float:
    try:
        return float(json.loads(answer.read() or b"{}").get("retry_after"))
    except (ValueError, TypeError):
        return float(answer.headers.get("Retry-After") or 1.0)


def _first(answer: urllib.error.HTTPError) -> str:
    text = answer.read(500).decode(errors="replace")
    return text.splitlines()[0] if text else ""


class Deliverer:
    """Claims due alerts and hands each to `post`; tells the database what became of it."""

    def __init__(
        self,
        reader: Reader,
        post: Callable[[Alert], Awaitable[None]],
        every_s: float = EVERY_S,
        routed: bool | None = None,  # which alerts it takes (Reader.alerts_claim)
    ) -> None:
        self.reader, self.post, self.every_s, self.routed = reader, post, every_s, routed
        self.broken: str | None = None

    async def once(self, at: datetime | None = None) -> int:
        """One pass: claim, post, mark. Returns how many were delivered."""
        if self.broken:
            return 0
        delivered = 0
        while claimed := await self.reader.alerts_claim(BATCH, at, self.routed):
            for n, alert in enumerate(claimed):
                try:
                    await self.post(alert)
                except Broken as exc:
                    self.broken = str(exc)
                    log.error("%s", exc)
                    await self.reader.alerts_done([a.id for a in claimed[n:]], str(exc))
                    return delivered
                except Failed as exc:
                    log.warning("alert %d (%s) not delivered: %s", alert.id, alert.kind, exc)
                    await self.reader.alerts_done([alert.id], str(exc))
                    continue
                await self.reader.alerts_done([alert.id])
                delivered += 1
                log.info("delivered %s %s", alert.kind, _what(alert))
            if len(claimed) < BATCH:
                break
        return delivered

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception as exc:  # a database that is away: next pass
                log.warning("alerts: %s; trying again in %.0f s", exc, self.every_s)
            try:
                await asyncio.wait_for(stop.wait(), self.every_s)
            except TimeoutError:
                pass


def _what(alert: Alert) -> str:
    if alert.quota is None:
        return str(alert.host)
    return f"'{alert.quota}'" + (f" {alert.threshold}%" if alert.threshold else "")


def webhook_post(
    url: str, lang: str, tz: str, reader: Reader | None = None
) -> Callable[[Alert], Awaitable[None]]:
    """Posts each alert to the webhook; with a reader, a digest carries its chart."""
    hook = Webhook(url)

    async def post(alert: Alert) -> None:
        png = None if reader is None else await picture(reader, alert)
        await hook.send(embed(alert, lang, tz), png)

    return post
