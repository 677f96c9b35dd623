// Live hall for supervisors: GET /api/v1/supervisor/overview (session cookie), refreshed every
// few seconds and right after any /hall event; seconds tick locally in between.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const centreId = Number(root.dataset.centreId);
  const overviewUrl = root.dataset.overview;
  const REFRESH_MS = 5000;
  const STATUS = { open: "Mở", paused: "Tạm dừng", closed: "Đóng" };
  const TICKET = { called: "đã gọi", serving: "đang phục vụ" };
  let data = null;
  let fetchedAt = 0;
  let pending = null;

  const $ = (sel) => root.querySelector(sel);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const since = () => Math.floor((Date.now() - fetchedAt) / 1000);
  function mmss(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(r).padStart(2, "0");
  }

  function render() {
    if (!data) return;
    const extra = since();
    const t = data.totals;
    $("#totals").innerHTML =
      `<div class="sv-kpi"><b>${t.waiting}</b><span>Đang chờ</span></div>` +
      `<div class="sv-kpi"><b>${t.open_counters}</b><span>Quầy đang mở</span></div>` +
      `<div class="sv-kpi"><b>${t.served_today}</b><span>Đã phục vụ hôm nay</span></div>` +
      `<div class="sv-kpi ${data.alerts.length ? "warn" : ""}"><b>${data.alerts.length}</b><span>Cảnh báo</span></div>`;
    $("#alerts").innerHTML = data.alerts.length
      ? data.alerts.map((a) => `<li class="sv-alert ${esc(a.severity)}" data-kind="${esc(a.kind)}">${esc(a.message)}</li>`).join("")
      : `<li class="muted">Không có cảnh báo.</li>`;
    $("#counters tbody").innerHTML = data.counters.map((c) => {
      const cur = c.current_ticket;
      const secs = cur ? cur.serving_seconds + extra : (c.idle_seconds !== null ? c.idle_seconds + extra : null);
      const reason = c.status === "paused" && c.status_reason ? ` (${esc(c.status_reason)})` : "";
      const paused = c.status === "paused" && c.status_seconds !== null ? ` ${mmss(c.status_seconds + extra)}` : "";
      return `<tr data-counter="${c.id}" class="st-${esc(c.status)}">
        <td>${esc(c.name)}</td><td><span class="sv-badge ${esc(c.status)}">${STATUS[c.status] || esc(c.status)}</span>${reason}${paused}</td>
        <td>${esc(c.staff_name || "—")}</td>
        <td>${cur ? `<b>${esc(cur.number)}</b> ${TICKET[cur.status] || esc(cur.status)}` : (c.status === "open" ? "<span class=muted>rảnh</span>" : "")}</td>
        <td class="num">${cur || c.idle_seconds !== null ? mmss(secs) : ""}</td><td class="num">${c.waiting}</td></tr>`;
    }).join("");
    $("#services tbody").innerHTML = data.services.map((s) => `<tr data-service="${s.id}" class="${s.over_threshold ? "over" : ""}">
        <td>${esc(s.name)}</td><td class="num">${s.waiting}</td>
        <td class="num">${s.waiting ? mmss(s.longest_wait_seconds + extra) : "—"}</td>
        <td class="num">${s.estimated_wait_seconds === null ? "không quầy mở" : (s.waiting ? "~" + Math.round(s.estimated_wait_seconds / 60) + " ph" : "—")}</td>
        <td class="num">${s.open_counters}</td></tr>`).join("");
    $("#devices tbody").innerHTML = data.devices.map((d) => `<tr data-station="${d.id}">
        <td>${esc(d.name || d.code)} <span class="muted">${esc(d.code)}</span></td>
        <td><span class="sv-badge ${d.online ? "open" : "closed"}">${d.online ? "trực tuyến" : "mất kết nối"}</span></td>
        <td>${d.devices.length ? d.devices.map((x) => `${esc(x.name)}: <span class="dev-${esc(x.state)}">${esc(x.state)}</span>${x.reason ? " (" + esc(x.reason) + ")" : ""}`).join("<br>") : "—"}</td></tr>`).join("");
  }

  async function refresh() {
    pending = null;
    try {
      const r = await fetch(overviewUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (r.status === 401) { location.href = "/supervisor/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      data = await r.json();
      fetchedAt = Date.now();
      document.getElementById("updated").textContent = new Date().toLocaleTimeString("vi-VN");
      render();
    } catch (e) {
      document.getElementById("conn").textContent = "lỗi tải dữ liệu: " + e.message;
    }
  }
  function soon() { if (!pending) pending = setTimeout(refresh, 300); }

  refresh();
  setInterval(refresh, REFRESH_MS);
  setInterval(render, 1000);

  if (window.io) {
    const socket = io("/hall", { transports: ["websocket", "polling"] });
    const conn = document.getElementById("conn");
    socket.on("connect", () => {
      socket.emit("subscribe", { centre_id: centreId }, (ack) => {
        conn.textContent = ack && ack.ok ? "trực tiếp" : "không đăng ký được";
        conn.className = "sv-conn " + (ack && ack.ok ? "ok" : "bad");
      });
    });
    socket.on("disconnect", () => { conn.textContent = "mất kết nối, đang thử lại…"; conn.className = "sv-conn bad"; });
    ["snapshot", "ticket.issued", "ticket.called", "ticket.recalled", "ticket.updated", "counter.updated",
     "queue.updated", "device.status", "station.status", "rating.recorded", "print.status"].forEach((ev) => socket.on(ev, soon));
  }
})();
