// netstats dashboard: cards, a live chart fed by Server-Sent Events, a history chart.
// Units are decimal and round half up, exactly as netstats/units.py does.
"use strict";

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
const RATE_UNITS = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];

function significant(value) {
  return String(Number(value.toPrecision(3)));
}

function scaled(value, units) {
  for (let i = 0; i < units.length - 1; i++) {
    if (Math.abs(value) < 999.5) {
      return i === 0 ? `${Math.round(value)} ${units[0]}` : `${significant(value)} ${units[i]}`;
    }
    value /= 1000;
  }
  return `${significant(value)} ${units[units.length - 1]}`;
}

const bytes = (n) => scaled(n, BYTE_UNITS);
const rate = (bytesPerS) => (bytesPerS == null ? "—" : scaled(bytesPerS * 8, RATE_UNITS));
const bits = (bitsPerS) => scaled(bitsPerS, RATE_UNITS);
const percent = (share) => `${(share * 100).toFixed(1)}%`;
const CALENDAR = ["today", "week", "month", "year", "cycle"];
const SERVICE = "service:";

const form = document.getElementById("filters");
const state = Object.fromEntries(new URLSearchParams(location.search));
for (const name of ["period", "tz"]) {
  if (state[name]) form.elements[name].value = state[name];
}

function query(names) {
  const params = new URLSearchParams();
  for (const name of names) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function localTime(iso, tz) {
  return new Date(iso).toLocaleString("sv-SE", { timeZone: tz, dateStyle: "short", timeStyle: "short" });
}

function showError(error) {
  const box = document.getElementById("error");
  box.hidden = !error;
  box.textContent = error ? error.message : "";
}

function setCard(id, text, warn = false) {
  const card = document.getElementById(id);
  card.textContent = text;
  card.classList.toggle("warn", warn);
}

async function loadHosts() {
  const hosts = await getJSON("/api/hosts");
  const hostSelect = form.elements.host;
  const ifaceSelect = form.elements.iface;
  const fill = (select, values, all) => {
    const keep = select.value || state[select.name] || "";
    select.replaceChildren(new Option(all, ""), ...values.map((v) => new Option(v, v)));
    select.value = values.includes(keep) ? keep : "";
  };
  const names = [...new Set(hosts.map((h) => h.host))];
  hostCount = names.length;
  fill(hostSelect, names, "All hosts");
  // Interfaces, then the services (series "service:<unit>": a part of the interfaces' traffic)
  const refreshIfaces = () => {
    const names = [...new Set(hosts.filter((h) => !hostSelect.value || h.host === hostSelect.value).map((h) => h.iface))].sort();
    const keep = ifaceSelect.value || state.iface || "";
    const services = names.filter((n) => n.startsWith(SERVICE));
    fill(ifaceSelect, names.filter((n) => !n.startsWith(SERVICE)), "All interfaces");
    if (services.length) {
      const group = document.createElement("optgroup");
      group.label = "Services";
      group.append(...services.map((n) => new Option(n.slice(SERVICE.length), n)));
      ifaceSelect.append(group);
      if (services.includes(keep)) ifaceSelect.value = keep;
    }
  };
  refreshIfaces();
  hostSelect.addEventListener("change", refreshIfaces);
}

let zone = "UTC"; // the zone of the figures shown: the tz field, or the server's NETSTATS_TZ
let hostCount = 0;

// The fleet: the first view with more than one host (and none chosen). A row per host as
// netstats_fleet summed it (/api/fleet); a header sorts, a row narrows the page to its host.
const FLEET_ORDER = {
  host: (r) => r.host,
  state: (r) => (r.silent_since ? Date.parse(r.silent_since) : Infinity),
  today: (r) => r.today_sent + r.today_recv,
  month: (r) => r.month_sent + r.month_recv,
  share: (r) => r.month_share ?? 0,
  busiest: (r) => r.busiest_iface || "",
};
let fleet = { rows: [], key: "month", descending: true, loaded: 0 };

async function loadFleet(force = true) {
  const section = document.getElementById("fleet");
  section.hidden = hostCount < 2 || Boolean(form.elements.host.value);
  // on each ingest (the live stream) at most every 30 s: a fleet uploads all the time
  if (section.hidden || (!force && Date.now() - fleet.loaded < 30000)) return;
  fleet.loaded = Date.now();
  fleet.rows = await getJSON(`/api/fleet?${query(["tz"])}`);
  const silent = fleet.rows.filter((r) => r.silent_since).length;
  document.getElementById("fleet-note").textContent =
    `· ${fleet.rows.length} hosts, ${silent} silent · times in ${zone}`;
  drawFleet();
}

function drawFleet() {
  const order = FLEET_ORDER[fleet.key];
  const sign = fleet.descending ? -1 : 1;
  const rows = [...fleet.rows].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return (x < y ? -1 : x > y ? 1 : a.host < b.host ? -1 : 1) * sign;
  });
  for (const button of document.querySelectorAll("#fleet-table th button")) {
    if (button.dataset.key === fleet.key) button.setAttribute("aria-sort", fleet.descending ? "descending" : "ascending");
    else button.removeAttribute("aria-sort");
  }
  const busiest = Math.max(...rows.map((r) => r.month_share || 0)) || 1; // the fullest bar
  document.querySelector("#fleet-table tbody").replaceChildren(...rows.map((r) => {
    const row = document.createElement("tr");
    row.dataset.host = r.host;
    const cell = (label, text, detail, className) => {
      const td = document.createElement("td");
      td.dataset.label = label;
      td.textContent = text;
      if (className) td.className = className;
      if (detail) {
        const small = document.createElement("small");
        small.textContent = detail;
        td.append(small);
      }
      row.append(td);
      return td;
    };
    cell("Host", r.host);
    cell("State", r.silent_since ? "silent" : "online",
         r.silent_since ? `since ${localTime(r.silent_since, zone)}` : `last ${localTime(r.last_at, zone)}`,
         r.silent_since ? "silent" : "");
    cell("Today", bytes(r.today_sent + r.today_recv), `↑ ${bytes(r.today_sent)} ↓ ${bytes(r.today_recv)}`);
    cell("This month", bytes(r.month_sent + r.month_recv), `↑ ${bytes(r.month_sent)} ↓ ${bytes(r.month_recv)}`);
    const share = cell("Share", r.month_share == null ? "—" : percent(r.month_share));
    share.prepend(meter((r.month_share || 0) / busiest));
    cell("Busiest interface", r.busiest_iface || "—", r.busiest_iface ? bytes(r.busiest_bytes) : "");
    const plans = cell("Plans", "");
    plans.append(...r.plans.map((p) => {
      const line = document.createElement("div");
      line.className = `plan${p.alarm ? " warn" : ""}`;
      line.append(meter(Math.min(1, p.used_ratio || 0)),
                  `${p.name} ${p.used_ratio == null ? "" : percent(p.used_ratio)}`);
      return line;
    }));
    if (!r.plans.length) plans.textContent = "—";
    row.addEventListener("click", () => {
      form.elements.host.value = r.host;
      form.elements.host.dispatchEvent(new Event("change", { bubbles: true }));
    });
    return row;
  }));
}

function meter(ratio) {
  const bar = document.createElement("span");
  bar.className = "share";
  const fill = document.createElement("i");
  fill.style.width = `${ratio * 100}%`;
  bar.append(fill);
  return bar;
}

document.querySelector("#fleet-table thead").addEventListener("click", (event) => {
  const key = event.target.closest("button")?.dataset.key;
  if (!key) return;
  // a new column starts with what is worth seeing first: largest, or A to Z, or silent longest
  const descending = key === fleet.key ? !fleet.descending : ["today", "month", "share"].includes(key);
  fleet = { ...fleet, key, descending };
  drawFleet();
});

async function loadTotals() {
  const t = await getJSON(`/api/totals?${query(["period", "tz", "host", "iface"])}`);
  zone = t.tz;
  form.elements.tz.placeholder = t.tz;
  const period = form.elements.period.value;
  setCard("sent", bytes(t.bytes_sent));
  setCard("received", bytes(t.bytes_recv));
  setCard("total", bytes(t.bytes_total));
  setCard("average", rate(t.avg_bytes_per_s));
  setCard("peak", rate(t.peak_bytes_per_s));
  setCard("coverage", t.coverage == null ? "—" : percent(t.coverage), t.coverage != null && t.coverage < 0.95);
  setCard("projection", CALENDAR.includes(period) && t.projected_bytes_total != null ? bytes(t.projected_bytes_total) : "—");
  const start = t.period_start ? localTime(t.period_start, t.tz) : "—";
  document.getElementById("window").textContent = `${start} → ${localTime(t.period_end, t.tz)} (${t.tz})`;
}

// Plans and quotas: bars of netstats_plans' own figures, amber once a threshold is crossed
// or the cost is projected over the budget. A quota is a plan on a calendar period.
const DIRECTIONS = { sent: "sent", recv: "received", total: "sent and received", max: "the larger of sent and received" };
const QUOTA_PERIODS = { day: "today", week: "this week", month: "this month", year: "this year", cycle: "this billing cycle" };
// Money as netstats/units.py shows it: the exact decimal string rounded half up to the
// currency's minor unit, only for display.
const SYMBOLS = { USD: "$", EUR: "€", GBP: "£", JPY: "¥", INR: "₹" };
const NO_MINOR_UNIT = ["JPY", "KRW", "VND", "CLP", "ISK"];
function money(amount, currency) {
  const minor = NO_MINOR_UNIT.includes(currency) ? 0 : 2;
  const [whole, fraction = ""] = String(amount).split(".");
  const digits = fraction.padEnd(minor + 1, "0");
  let units = BigInt(whole + digits.slice(0, minor)) + (Number(digits[minor]) >= 5 ? 1n : 0n);
  const less = units === 0n && /[1-9]/.test(fraction) ? "< " : "";
  if (less) units = 1n;
  const text = units.toString().padStart(minor + 1, "0");
  const integer = BigInt(text.slice(0, text.length - minor)).toLocaleString("en");
  const shown = minor ? `${integer}.${text.slice(-minor)}` : integer;
  return SYMBOLS[currency] ? `${less}${SYMBOLS[currency]}${shown}` : `${less}${shown} ${currency}`;
}
async function loadPlans() {
  const plans = await getJSON(`/api/plans?${query(["tz", "host", "iface"])}`);
  document.getElementById("quotas").hidden = plans.length === 0;
  document.getElementById("quota-list").replaceChildren(...plans.map((p) => {
    const item = document.createElement("li");
    item.dataset.name = p.name;
    const overBudget = p.budget != null && p.projected_cost != null && Number(p.projected_cost) > Number(p.budget);
    item.classList.toggle("warn", p.thresholds_crossed.length > 0 || overBudget);
    const hosts = p.hosts ? p.hosts.join(", ") : "all hosts";
    const scope = p.hosts || p.iface ? ` · ${hosts} / ${p.iface || "all interfaces"}` : "";
    const title = document.createElement("strong");
    title.textContent = `${p.name}: ${DIRECTIONS[p.basis]} ${p.period ? QUOTA_PERIODS[p.period] : "this cycle"}${scope}`;
    const counted = p.used_bytes + p.adjust_bytes;
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.min(100, (p.used_ratio || 0) * 100)}%`;
    bar.append(fill);
    bar.hidden = p.used_ratio == null;
    const used = document.createElement("div");
    used.className = "used";
    used.textContent = (p.included_bytes == null
      ? `${bytes(counted)} · unlimited`
      : p.used_ratio == null
      ? `${bytes(counted)} · pay as you go`
      : `${bytes(counted)} of ${bytes(p.included_bytes)} (${percent(p.used_ratio)}) · ${bytes(p.remaining_bytes)} left`) +
      (p.adjust_bytes ? ` · incl. ${p.adjust_bytes > 0 ? "+" : "-"}${bytes(Math.abs(p.adjust_bytes))} corrected` : "");
    const note = document.createElement("div");
    note.className = "note";
    note.textContent = p.used_ratio >= 1
      ? `limit reached · ${bytes(counted - p.included_bytes)} over`
      : p.runs_out_at
      ? `runs out ${localTime(p.runs_out_at, p.tz)} (${p.tz}) at this rate`
      : `≈ ${p.projected_bytes == null ? "—" : bytes(p.projected_bytes)} by ${localTime(p.cycle_end, p.tz)} (${p.tz})` +
        (p.daily_allowance_bytes == null ? "" : ` · ${bytes(p.daily_allowance_bytes)} a day left`);
    item.append(title, bar, used, note);
    if (p.currency) {
      const cost = document.createElement("div");
      cost.className = "cost";
      cost.textContent = `cost ${money(p.cost_so_far, p.currency)} so far · ≈ ${
        p.projected_cost == null ? "—" : money(p.projected_cost, p.currency)} by ${localTime(p.cycle_end, p.tz)}` +
        (p.budget == null ? "" : ` · ${overBudget ? "over the budget of" : "budget"} ${money(p.budget, p.currency)}`);
      item.append(cost);
    }
    return item;
  }));
}

// Burstable billing: the 95th percentile of the period's 5-minute rates, against the commit
// (NETSTATS_COMMIT_MBITS) when there is one; and the period's busiest days.
async function loadBilling() {
  const p = await getJSON(`/api/percentile?${query(["period", "tz", "host", "iface"])}`);
  document.getElementById("pct-total").textContent = rate(p.total_bytes_per_s);
  document.getElementById("pct-split").textContent =
    p.sent_bytes_per_s == null ? "" : `↑ ${rate(p.sent_bytes_per_s)} ↓ ${rate(p.recv_bytes_per_s)}`;
  const gauge = document.getElementById("pct-gauge");
  const commit = p.commit_bytes_per_s;
  const peak = Math.max(p.sent_bytes_per_s || 0, p.recv_bytes_per_s || 0);
  gauge.hidden = commit == null;
  let note = `${p.measured_buckets.toLocaleString("en")} of ${p.buckets.toLocaleString("en")} five-minute buckets measured`;
  if (commit != null) {
    const scale = Math.max(commit, peak) * 1.25 || 1;
    gauge.querySelector("span").style.width = `${(peak / scale) * 100}%`;
    gauge.querySelector("i").style.left = `${(commit / scale) * 100}%`;
    gauge.classList.toggle("warn", peak > commit);
    note += ` · commit ${rate(commit)}: ${p.above_commit.toLocaleString("en")} buckets above (${(p.above_commit * 5).toLocaleString("en")} min)`;
  }
  document.getElementById("pct-note").textContent = note;
  const days = await getJSON(`/api/top?${query(["period", "tz", "host", "iface"])}&by=day`);
  fillBytes("#top-days tbody", days.map((d) => [d.key, d]));
}

// Rows of a name and its bytes sent, received and in all.
function fillBytes(selector, named) {
  document.querySelector(selector).replaceChildren(...named.map(([name, r]) => {
    const row = document.createElement("tr");
    for (const text of [name, bytes(r.bytes_sent), bytes(r.bytes_recv), bytes(r.bytes_total)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
}

// What each service moved, beside the totals of a host or of every host.
async function loadServices() {
  const shown = !form.elements.iface.value;
  const rows = shown ? await getJSON(`/api/services?${query(["period", "tz", "host"])}`) : [];
  document.getElementById("services").hidden = rows.length === 0;
  fillBytes("#services tbody", rows.map((r) => [r.service, r]));
}

function chartWidth(element) {
  return Math.max(280, element.clientWidth || document.body.clientWidth - 32);
}

let historyChart = null;
async function loadHistory() {
  const h = await getJSON(`/api/history?${query(["period", "tz", "host", "iface"])}`);
  const element = document.getElementById("history");
  const xs = h.buckets.map((b) => Date.parse(b.bucket_start) / 1000);
  const sent = h.buckets.map((b) => b.bytes_sent);
  const both = h.buckets.map((b) => b.bytes_sent + b.bytes_recv); // received stacks on sent
  document.getElementById("history-title").textContent =
    h.step_s == null ? "History" : `History: ${h.step_s >= 604800 ? "weekly" : h.step_s >= 86400 ? "daily" : "hourly"} bars`;
  const bars = uPlot.paths.bars({ size: [0.8, 64] });
  const options = {
    width: chartWidth(element), height: 220,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    axes: [{}, { values: (u, ticks) => ticks.map(bytes), size: 70 }],
    series: [{},
             { label: "received", fill: "#27ae60", stroke: "#27ae60", paths: bars,
               value: (u, v, s, i) => (i == null ? "—" : bytes(both[i] - sent[i])) },
             { label: "sent", fill: "#2f80ed", stroke: "#2f80ed", paths: bars,
               value: (u, v) => (v == null ? "—" : bytes(v)) }],
  };
  if (historyChart) historyChart.destroy();
  historyChart = new uPlot(options, [xs, both, sent], element);
}

let liveChart = null;
let stream = null;
let liveWindow = 900;
function drawLive(data) {
  liveWindow = data.window_s || liveWindow;
  const minutes = `${Math.round(liveWindow / 60)} minutes`;
  document.getElementById("live-title").textContent =
    `Live: bits per second, last ${minutes} (agents upload every ${data.upload_every_s} s)`;
  document.getElementById("live-empty").textContent =
    `No samples in the last ${minutes}: is the agent running?`;
  const element = document.getElementById("live");
  const xs = data.points.map((p) => p[0]);
  const ys = data.points.map((p) => p[1]);
  element.dataset.points = String(data.points.length);
  document.getElementById("live-empty").hidden = data.points.length > 0;
  if (liveChart) {
    liveChart.setData([xs, ys]);
    return;
  }
  // The title promises the window: the axis spans it, however few points there are.
  const span = (u, min, max) => {
    const end = Math.max(Date.now() / 1e3, max ?? 0);
    return [end - liveWindow, end];
  };
  liveChart = new uPlot({
    width: chartWidth(element), height: 200,
    scales: { x: { time: true, range: span } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    axes: [{}, { values: (u, ticks) => ticks.map(bits), size: 80 }],
    series: [{}, { label: "bits/s", stroke: "#d35400", width: 2, points: { show: true, size: 5 }, value: (u, v) => (v == null ? "—" : bits(v)) }],
  }, [xs, ys], element);
}

function openStream() {
  if (stream) stream.close();
  stream = new EventSource(`/api/stream?${query(["host", "iface"])}`);
  stream.onmessage = (event) => {
    drawLive(JSON.parse(event.data));
    loadTotals().catch(showError);
    loadPlans().catch(showError);
    loadFleet(false).catch(showError);
  };
}

async function refresh() {
  const params = query(["period", "tz", "host", "iface"]);
  history.replaceState(null, "", params ? `?${params}` : location.pathname);
  try {
    await loadTotals(); // first: it tells the zone the charts are drawn in
    await loadFleet();
    await loadHistory();
    await loadPlans();
    await loadBilling();
    await loadServices();
    showError(null);
  } catch (error) {
    showError(error);
  }
  openStream();
}

form.addEventListener("change", refresh);
form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
if (Intl.supportedValuesOf) {
  document.getElementById("zones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((z) => new Option(z)));
}
loadHosts().catch(showError).then(refresh);
