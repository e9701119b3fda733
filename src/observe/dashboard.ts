// The /ui page: one self-contained HTML document (inline CSS and JS, no CDN, no library: the
// hosts it runs on often have no internet). It streams snapshots from /events (Server-Sent
// Events) and draws throughput, latency and CPU/memory charts on <canvas> by hand, with
// per-source and per-sink tables and the latest errors. Bundled into the binary as a string.

export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ves-log-collector</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#d8dee6; --dim:#8a96a3;
          --in:#4ea1ff; --out:#3ecf8e; --p50:#8a96a3; --p99:#f5a623; --p999:#ff5c5c;
          --ack:#c57bff; --cpu:#f5a623; --rss:#4ea1ff; --bad:#ff5c5c; --ok:#3ecf8e; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text);
         font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { display:flex; align-items:center; gap:16px; padding:14px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:17px; margin:0; font-weight:600; }
  header .dim { color:var(--dim); }
  .badge { padding:2px 10px; border-radius:10px; font-weight:600; font-size:12px; text-transform:uppercase; }
  .badge.ok { background:#143d2c; color:var(--ok); } .badge.bad { background:#4a1c1c; color:var(--bad); }
  .badge.wait { background:#3a3220; color:var(--p99); }
  header .right { margin-left:auto; display:flex; gap:8px; align-items:center; color:var(--dim); }
  header button { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:6px;
                  padding:3px 9px; cursor:pointer; font:inherit; font-size:12px; }
  header button.on { border-color:var(--in); color:var(--in); }
  main { padding:16px 20px; display:grid; gap:16px; }
  .tiles { display:grid; grid-template-columns:repeat(auto-fit, minmax(118px, 1fr)); gap:12px; }
  .tile { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
  .tile .k { color:var(--dim); font-size:12px; } .tile .v { font-size:22px; font-weight:600; margin-top:2px;
             font-variant-numeric:tabular-nums; }
  .charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(360px, 1fr)); gap:16px; }
  .panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
  .panel h2 { font-size:13px; font-weight:600; margin:0 0 8px; color:var(--dim); text-transform:uppercase;
              letter-spacing:.04em; }
  canvas { width:100%; height:200px; display:block; }
  .legend { display:flex; gap:14px; flex-wrap:wrap; font-size:12px; color:var(--dim); margin-top:6px; }
  .legend i { display:inline-block; width:10px; height:3px; vertical-align:middle; margin-right:5px; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th, td { text-align:right; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  th:first-child, td:first-child { text-align:left; }
  td.err { text-align:left; white-space:normal; color:var(--bad); max-width:420px; word-break:break-word; }
  .empty { color:var(--dim); padding:6px 0; }
  ul.errors { list-style:none; margin:0; padding:0; font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12px; }
  ul.errors li { padding:4px 0; border-bottom:1px solid var(--line); word-break:break-word; }
  ul.errors .t { color:var(--dim); margin-right:8px; } ul.errors .warn { color:var(--p99); }
  ul.errors .error { color:var(--bad); }
  .tables { display:grid; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); gap:16px; }
</style>
</head>
<body>
<header>
  <h1>ves-log-collector</h1>
  <span id="status" class="badge wait">connecting</span>
  <span class="dim" id="meta"></span>
  <div class="right">window
    <button data-min="1">1m</button><button data-min="5" class="on">5m</button><button data-min="10">10m</button>
  </div>
</header>
<main>
  <section class="tiles">
    <div class="tile"><div class="k">lines in / s</div><div class="v" id="t-in">-</div></div>
    <div class="tile"><div class="k">events out / s</div><div class="v" id="t-out">-</div></div>
    <div class="tile"><div class="k">MB in / s</div><div class="v" id="t-mb">-</div></div>
    <div class="tile"><div class="k">CPU (1 core = 100%)</div><div class="v" id="t-cpu">-</div></div>
    <div class="tile"><div class="k">memory (RSS)</div><div class="v" id="t-rss">-</div></div>
    <div class="tile"><div class="k">handoff p99</div><div class="v" id="t-h99">-</div></div>
    <div class="tile"><div class="k">ack p99</div><div class="v" id="t-a99">-</div></div>
    <div class="tile"><div class="k">queue (batches)</div><div class="v" id="t-q">-</div></div>
    <div class="tile"><div class="k">retries / drops / parse err.</div><div class="v" id="t-err">-</div></div>
  </section>
  <section class="charts">
    <div class="panel"><h2>Throughput</h2><canvas id="c-tp"></canvas>
      <div class="legend"><span><i style="background:var(--in)"></i>lines in/s</span>
      <span><i style="background:var(--out)"></i>events out/s</span></div></div>
    <div class="panel"><h2>Latency (ms)</h2><canvas id="c-lat"></canvas>
      <div class="legend"><span><i style="background:var(--p50)"></i>handoff p50</span>
      <span><i style="background:var(--p99)"></i>handoff p99</span><span><i style="background:var(--p999)"></i>handoff p99.9</span>
      <span><i style="background:var(--ack)"></i>ack p99</span></div></div>
    <div class="panel"><h2>CPU and memory</h2><canvas id="c-res"></canvas>
      <div class="legend"><span><i style="background:var(--cpu)"></i>CPU %</span>
      <span><i style="background:var(--rss)"></i>RSS MB (right axis)</span></div></div>
  </section>
  <section class="tables">
    <div class="panel"><h2>Sources</h2><table id="sources"><thead><tr><th>source</th><th>lines/s</th><th>MB/s</th>
      <th>lines</th><th>bytes</th></tr></thead><tbody></tbody></table></div>
    <div class="panel"><h2>Sinks</h2><table id="sinks"><thead><tr><th>sink</th><th>health</th><th>events/s</th>
      <th>events</th><th>bytes</th><th>errors</th><th>ack p99</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section class="panel"><h2>Recent warnings and errors</h2><ul class="errors" id="errors"></ul></section>
</main>
<script>
"use strict";
var points = [];
var windowMin = 5;
var MAX_POINTS = 600;
var css = getComputedStyle(document.documentElement);
function color(name) { return css.getPropertyValue("--" + name).trim(); }
function $(id) { return document.getElementById(id); }
function rate(n) {
  if (n == null || !isFinite(n)) return "-";
  return n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e3 ? (n / 1e3).toFixed(1) + "k" : n.toFixed(0);
}
function bytes(n) {
  return n >= 1e9 ? (n / 1e9).toFixed(1) + " GB" : n >= 1e6 ? (n / 1e6).toFixed(1) + " MB"
    : n >= 1e3 ? (n / 1e3).toFixed(0) + " kB" : n + " B";
}
function ms(v) { return v == null || !isFinite(v) ? "-" : v < 10 ? v.toPrecision(2) + " ms" : v.toFixed(0) + " ms"; }
// The axis top: 4 gridlines of a round step (1, 2, 2.5 or 5 x a power of ten) above v.
function niceMax(v) {
  if (!(v > 0)) return 1;
  var q = v / 4, p = Math.pow(10, Math.floor(Math.log10(q))), m = q / p;
  return 4 * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

// One line chart: series share the left axis unless series.right; null values break the line.
function draw(canvas, series, fmtLeft, fmtRight) {
  var dpr = window.devicePixelRatio || 1;
  var w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  var ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  var padL = 52, padR = fmtRight ? 52 : 12, padT = 8, padB = 20;
  var now = Date.now(), span = windowMin * 60000, t0 = now - span;
  var shown = points.filter(function (p) { return p.t >= t0; });
  var maxL = 0, maxR = 0;
  series.forEach(function (s) {
    shown.forEach(function (p) { var v = s.get(p); if (v != null && isFinite(v)) {
      if (s.right) maxR = Math.max(maxR, v); else maxL = Math.max(maxL, v); } });
  });
  maxL = niceMax(maxL); maxR = niceMax(maxR);
  var pw = w - padL - padR, ph = h - padT - padB;
  ctx.font = "11px system-ui, sans-serif"; ctx.lineWidth = 1;
  ctx.strokeStyle = color("line"); ctx.fillStyle = color("dim");
  for (var i = 0; i <= 4; i++) {
    var y = padT + ph - (ph * i) / 4;
    ctx.beginPath(); ctx.moveTo(padL, y + 0.5); ctx.lineTo(padL + pw, y + 0.5); ctx.stroke();
    ctx.textAlign = "right"; ctx.fillText(fmtLeft((maxL * i) / 4), padL - 6, y + 4);
    if (fmtRight) { ctx.textAlign = "left"; ctx.fillText(fmtRight((maxR * i) / 4), padL + pw + 6, y + 4); }
  }
  ctx.textAlign = "center";
  for (var m = 0; m <= windowMin; m += windowMin <= 1 ? 0.25 : windowMin <= 5 ? 1 : 2) {
    var x = padL + pw - (pw * m * 60000) / span;
    ctx.fillText(m === 0 ? "now" : "-" + (m < 1 ? m * 60 + "s" : m + "m"), x, h - 5);
  }
  series.forEach(function (s) {
    var max = s.right ? maxR : maxL;
    ctx.strokeStyle = color(s.color); ctx.lineWidth = s.width || 1.6; ctx.beginPath();
    var pen = false;
    shown.forEach(function (p) {
      var v = s.get(p);
      if (v == null || !isFinite(v)) { pen = false; return; }
      var x = padL + pw - (pw * (now - p.t)) / span, y = padT + ph - (ph * Math.min(v, max)) / max;
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    });
    ctx.stroke();
  });
  // For tests and curious people: how many points are on the chart and the newest one's time.
  canvas.dataset.points = String(shown.length);
  canvas.dataset.last = shown.length ? String(shown[shown.length - 1].t) : "";
}

function redraw() {
  draw($("c-tp"), [
    { color: "in", get: function (p) { return p.in_lps; } },
    { color: "out", get: function (p) { return p.out_eps; } },
  ], rate);
  draw($("c-lat"), [
    { color: "p50", get: function (p) { return p.h50; } },
    { color: "p99", get: function (p) { return p.h99; } },
    { color: "p999", get: function (p) { return p.h999; } },
    { color: "ack", get: function (p) { return p.a99; } },
  ], function (v) { return v === 0 ? "0" : v < 10 ? v.toPrecision(2) : v.toFixed(0); });
  draw($("c-res"), [
    { color: "cpu", get: function (p) { return p.cpu; } },
    { color: "rss", right: true, get: function (p) { return p.rss / 1048576; } },
  ], function (v) { return v.toFixed(0) + "%"; }, function (v) { return v.toFixed(0); });
}

function cell(tr, text, cls) {
  var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td);
  return td;
}
function rows(tbody, items, fill, empty) {
  tbody.textContent = "";
  if (!items.length) { var tr = document.createElement("tr"); var td = cell(tr, empty, "empty"); td.colSpan = 7; tbody.appendChild(tr); return; }
  items.forEach(function (it) { var tr = document.createElement("tr"); fill(tr, it); tbody.appendChild(tr); });
}

function show(s) {
  var st = $("status");
  st.textContent = s.status;
  st.className = "badge " + (s.status === "ok" ? "ok" : s.status === "unhealthy" ? "bad" : "wait");
  $("meta").textContent = "v" + s.version + " · up " + Math.round(s.uptime_s) + " s · " +
    rate(s.in.lines_total) + " lines in, " + rate(s.out.events_total) + " events out";
  $("t-in").textContent = rate(s.in.lines_per_s);
  $("t-out").textContent = rate(s.out.events_per_s);
  $("t-mb").textContent = (s.in.bytes_per_s / 1e6).toFixed(1);
  $("t-cpu").textContent = s.cpu_percent.toFixed(0) + "%";
  $("t-rss").textContent = (s.rss_bytes / 1048576).toFixed(0) + " MB";
  $("t-h99").textContent = ms(s.latency_ms.handoff.p99);
  $("t-a99").textContent = ms(s.latency_ms.ack.p99);
  $("t-q").textContent = s.queue.batches + " · " + bytes(s.queue.bytes);
  $("t-err").textContent = s.retries + " / " + s.dropped + " / " + s.parse_errors;
  rows($("sources").tBodies[0], s.sources, function (tr, r) {
    cell(tr, r.id); cell(tr, rate(r.lines_per_s)); cell(tr, (r.bytes_per_s / 1e6).toFixed(2));
    cell(tr, rate(r.lines_total)); cell(tr, bytes(r.bytes_total));
  }, "no sources");
  rows($("sinks").tBodies[0], s.sinks, function (tr, r) {
    cell(tr, r.id);
    var h = cell(tr, r.healthy ? "healthy" : "failing");
    h.style.color = r.healthy ? color("ok") : color("bad");
    if (!r.healthy && r.reason) h.title = r.reason;
    cell(tr, rate(r.events_per_s)); cell(tr, rate(r.events_total)); cell(tr, bytes(r.bytes_total));
    cell(tr, String(r.errors_total)); cell(tr, ms(r.ack_p99_ms));
    if (!r.healthy && r.reason) { var er = document.createElement("tr"); var td = cell(er, r.reason, "err"); td.colSpan = 7; tr.after(er); }
  }, "no sinks");
  var ul = $("errors"); ul.textContent = "";
  if (!s.errors.length) { var li = document.createElement("li"); li.className = "empty"; li.textContent = "none"; ul.appendChild(li); }
  s.errors.slice().reverse().forEach(function (e) {
    var li = document.createElement("li");
    var t = document.createElement("span"); t.className = "t"; t.textContent = e.ts.slice(11, 19); li.appendChild(t);
    var l = document.createElement("span"); l.className = e.level; l.textContent = e.level.toUpperCase() + " "; li.appendChild(l);
    li.appendChild(document.createTextNode(e.component + ": " + e.msg + (e.code ? " [" + e.code + "]" : "") + (e.error ? " " + e.error : "")));
    ul.appendChild(li);
  });
}

function add(p) {
  // The first snapshot after connecting is also the last point of the history.
  if (points.length && points[points.length - 1].t >= p.t) return;
  points.push(p);
  if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
}

var es = new EventSource("events");
es.addEventListener("history", function (ev) { points = JSON.parse(ev.data); redraw(); });
es.onmessage = function (ev) { var s = JSON.parse(ev.data); add(s.point); show(s); redraw(); };
es.onerror = function () { var st = $("status"); st.textContent = "disconnected"; st.className = "badge bad"; };
document.querySelectorAll("header button").forEach(function (b) {
  b.onclick = function () {
    windowMin = Number(b.dataset.min);
    document.querySelectorAll("header button").forEach(function (o) { o.classList.toggle("on", o === b); });
    redraw();
  };
});
window.addEventListener("resize", redraw);
</script>
</body>
</html>
`;
