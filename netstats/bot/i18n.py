"""English and Japanese for /netstats: the command's own strings go through discord.py's
Translator; the answer's labels follow the locale of the person who asked."""

from __future__ import annotations

from typing import Any

from discord import Locale, app_commands

# Command, option and choice strings, keyed by their English text.
JAPANESE = {
    "Show how much this bot's host sent and received": "このボットのホストの送受信量を表示します",
    "period": "期間",
    "Which period; calendar periods follow the bot's time zone": "期間（暦の期間はボットのタイムゾーンに従います）",
    "host": "ホスト",
    "Only this host": "このホストのみ",
    "interface": "インターフェース",
    "Only this network interface": "このネットワークインターフェースのみ",
    "service": "サービス",
    "Only this service (a systemd unit the agent counts)": "このサービスのみ（エージェントが計測する systemd ユニット）",
    "Today": "今日",
    "This week": "今週",
    "This month": "今月",
    "Billing cycle": "請求サイクル",
    "All time": "全期間",
    "Last 24 hours": "過去24時間",
    "Last 7 days": "過去7日間",
    "Last 30 days": "過去30日間",
    "view": "表示",
    "What to show: totals, burstable billing, where the traffic went, or plans and their cost": "表示する内容：通信量、バースト課金、通信の多い日やホスト、プランと費用",
    "Totals": "通信量",
    "95th percentile": "95パーセンタイル",
    "Top days": "通信の多い日",
    "Top hosts": "通信の多いホスト",
    "Plans": "プラン",
}

PERIOD_CHOICES = [
    ("Today", "today"),
    ("This week", "week"),
    ("This month", "month"),
    ("Billing cycle", "cycle"),
    ("All time", "all"),
    ("Last 24 hours", "24h"),
    ("Last 7 days", "7d"),
    ("Last 30 days", "30d"),
]

VIEW_CHOICES = [
    ("Totals", "totals"),
    ("95th percentile", "percentile"),
    ("Top days", "top_days"),
    ("Top hosts", "top_hosts"),
    ("Plans", "plans"),
]
# A view's period when none is chosen: what its figures are usually asked for
# (a plan's cycle is its own: the plans view shows each plan's current one)
VIEW_PERIODS = {
    "totals": "today",
    "percentile": "cycle",
    "top_days": "month",
    "top_hosts": "month",
    "plans": "cycle",
}

LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Network traffic · {period}",
        "sent": "Sent",
        "received": "Received",
        "total": "Total",
        "samples": "Samples",
        "average": "Average rate",
        "peak": "Peak rate",
        "coverage": "Coverage",
        "coverage_warning": "⚠️ the agent was not running the whole time",
        "projection": "Projection",
        "projection_by": "≈ {bytes} by {end}",
        "not_projected": "— (only for calendar periods)",
        "scope_all": "All hosts and interfaces",
        "scope": "Host {host} · interface {iface}",
        "any": "all",
        "window": "{start} → {end} ({tz})",
        "no_data": "No traffic recorded yet",
        "denied": "You need the Manage Server permission to see traffic figures.",
        "guild_not_allowed": "netstats is not enabled on this server.",
        "unknown_host": "I have no traffic recorded for the host “{host}”.",
        "interface_or_service": "Choose an interface or a service, not both: a service's traffic is counted on every interface.",
        "services": "Services (part of the traffic above)",
        "failed": "Sorry, I could not read the traffic figures just now. Please try again in a minute.",
        "quota": "Quota “{name}” · {direction} {period}",
        "quota_used": "{bar} {percent}\n{used} of {limit}",
        "quota_runs_out": "runs out {at} at this rate",
        "quota_reached": "limit reached",
        "quota_projected": "≈ {bytes} by {end}",
        "quota_periods": {
            "day": "today",
            "week": "this week",
            "month": "this month",
            "year": "this year",
            "cycle": "this billing cycle",
        },
        "quota_directions": {
            "sent": "sent",
            "recv": "received",
            "total": "total",
            "max": "larger of sent and received",
        },
        "percentile_title": "95th percentile · {period}",
        "measured": "{measured:,} of {buckets:,} five-minute buckets measured",
        "above_commit": "Above {commit}",
        "above_commit_value": "{count:,} buckets ({minutes:,} min)",
        "top_days": "Top days · {period}",
        "top_hosts": "Top hosts · {period}",
        "top_row": "{total} · ↑ {sent} ↓ {recv}",
        "plans_title": "Plans · each in its own billing cycle",
        "no_plans": "No plan yet: `netstats plan set NAME --provider KEY` sets one.",
        "plan": "Plan “{name}” · {basis} · {hosts}",
        "plan_hosts_all": "all hosts",
        "plan_used": "{bar} {percent}\n{used} of {included}",
        "plan_unlimited": "{used} (no allowance limit)",
        "plan_corrected": "incl. a correction of {bytes}",
        "plan_cycle": "cycle ends {end}",
        "plan_projected": "≈ {bytes} by the end",
        "plan_cost": "cost {cost} so far · ≈ {projected} by the end",
        "plan_budget": "budget {budget}",
        "plan_over_budget": "⚠️ over the budget of {budget}",
        "status_title": "Traffic status",
        "status_updated": "Updated <t:{at}:R> · every {minutes} min",
        "status_online": "🟢 online · last sample <t:{at}:R>",
        "status_silent": "🔴 silent since <t:{at}:R>",
        "status_use": "today {today} · this cycle {cycle}",
        "status_no_hosts": "No host has reported yet.",
    },
    "ja": {
        "title": "ネットワーク通信量 · {period}",
        "sent": "送信",
        "received": "受信",
        "total": "合計",
        "samples": "サンプル数",
        "average": "平均速度",
        "peak": "最大速度",
        "coverage": "計測率",
        "coverage_warning": "⚠️ エージェントが停止していた時間があります",
        "projection": "予測",
        "projection_by": "{end} までに約 {bytes}",
        "not_projected": "—（暦の期間のみ）",
        "scope_all": "すべてのホストとインターフェース",
        "scope": "ホスト {host} · インターフェース {iface}",
        "any": "すべて",
        "window": "{start} → {end}（{tz}）",
        "no_data": "まだ通信量の記録がありません",
        "denied": "通信量を見るには「サーバー管理」権限が必要です。",
        "guild_not_allowed": "このサーバーでは netstats が有効になっていません。",
        "unknown_host": "ホスト「{host}」の通信量は記録されていません。",
        "interface_or_service": "インターフェースかサービスのどちらか一方を選んでください（サービスの通信量はすべてのインターフェースで計測されます）。",
        "services": "サービス（上記の通信量の内訳）",
        "failed": "申し訳ありません、通信量を読み取れませんでした。しばらくしてからもう一度お試しください。",
        "quota": "クォータ「{name}」· {period}の{direction}",
        "quota_used": "{bar} {percent}\n{used} / {limit}",
        "quota_runs_out": "このペースでは {at} に上限到達",
        "quota_reached": "上限に到達済み",
        "quota_projected": "{end} までに約 {bytes}",
        "quota_periods": {
            "day": "今日",
            "week": "今週",
            "month": "今月",
            "year": "今年",
            "cycle": "請求サイクル",
        },
        "quota_directions": {
            "sent": "送信量",
            "recv": "受信量",
            "total": "送受信量",
            "max": "送信量と受信量の多い方",
        },
        "percentile_title": "95パーセンタイル · {period}",
        "measured": "5分間隔 {buckets:,} 個のうち {measured:,} 個を計測",
        "above_commit": "{commit} 超過",
        "above_commit_value": "{count:,} 個（{minutes:,} 分）",
        "top_days": "通信の多い日 · {period}",
        "top_hosts": "通信の多いホスト · {period}",
        "top_row": "{total} · ↑ {sent} ↓ {recv}",
        "plans_title": "プラン · それぞれの請求サイクル",
        "no_plans": "プランはまだありません：`netstats plan set NAME --provider KEY` で設定できます。",
        "plan": "プラン「{name}」· {basis} · {hosts}",
        "plan_hosts_all": "すべてのホスト",
        "plan_used": "{bar} {percent}\n{used} / {included}",
        "plan_unlimited": "{used}（無制限）",
        "plan_corrected": "補正 {bytes} を含む",
        "plan_cycle": "サイクル終了 {end}",
        "plan_projected": "終了時の予測 約 {bytes}",
        "plan_cost": "現在までの費用 {cost} · 終了時の予測 約 {projected}",
        "plan_budget": "予算 {budget}",
        "plan_over_budget": "⚠️ 予算 {budget} を超える見込み",
        "status_title": "通信状況",
        "status_updated": "<t:{at}:R> に更新 · {minutes} 分ごと",
        "status_online": "🟢 稼働中 · 最終サンプル <t:{at}:R>",
        "status_silent": "🔴 <t:{at}:R> から途絶えています",
        "status_use": "今日 {today} · 今サイクル {cycle}",
        "status_no_hosts": "まだ報告したホストはありません。",
    },
}


def language(locale: Locale | None) -> str:
    return "ja" if locale is Locale.japanese else "en"


def period_name(period: str, lang: str) -> str:
    english = next(name for name, value in PERIOD_CHOICES if value == period)
    return JAPANESE[english] if lang == "ja" else english


class Translator(app_commands.Translator):
    """Japanese for our strings; anything else goes to the bot's own translator, if any."""

    def __init__(self, fallback: app_commands.Translator | None = None) -> None:
        self.fallback = fallback

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if string.message in JAPANESE or string.message == "netstats":
            return JAPANESE.get(string.message) if locale is Locale.japanese else None
        if self.fallback is not None:
            return await self.fallback.translate(string, locale, context)
        return None
