/* Supervisor device page: stations from GET /api/v1/stations, kept live by /hall events
   (device.status, station.status, rating.recorded); reprint a failed ticket. */
(function () {
  "use strict";
  var S = window.Staff, el = S.el;
  var app = document.getElementById("app");
  var centreId = parseInt(app.getAttribute("data-centre-id"), 10);
  var KIND = { printer: "Máy in phiếu", ratingpad: "Bàn phím đánh giá", keypad: "Bàn phím gọi số", ledboard: "Bảng LED" };
  var STATE = { ready: "Sẵn sàng", error: "Lỗi", disconnected: "Mất kết nối" };
  var REASON = {
    "paper out": "hết giấy", "paper near end": "sắp hết giấy", "cover open": "nắp máy đang mở",
    "offline": "không phản hồi"
  };
  var stations = [];
  var refreshTimer = null;

  function $(id) { return document.getElementById(id); }
  function fail(err) { $("error").textContent = err.message; $("error").hidden = false; }

  function reasonText(reason) {
    if (!reason) return "";
    var key = String(reason).toLowerCase();
    var vi = REASON[key] || REASON[key.split(":")[0]];
    return vi ? vi + " (" + reason + ")" : String(reason);
  }

  function deviceItem(d) {
    var state = STATE[d.state] ? d.state : "unknown";
    return el("li", { "data-device": d.name, "data-state": d.state || "" }, [
      el("span", { className: "d-state " + state, text: STATE[d.state] || d.state || "?" }),
      " " + (KIND[d.kind] || d.kind || "") + " ",
      el("code", { text: d.name }),
      d.reason ? el("span", { className: "d-reason", text: " – " + reasonText(d.reason) }) : null
    ]);
  }

  function reprint(ticketId, button) {
    button.disabled = true;
    S.api("POST", "/api/v1/tickets/" + ticketId + "/reprint").then(refresh).catch(function (err) {
      button.disabled = false; fail(err);
    });
  }

  function failedItem(f) {
    var button = el("button", { className: "p-btn", type: "button", "data-reprint": String(f.ticket_id), text: "In lại / Reprint" });
    button.addEventListener("click", function () { reprint(f.ticket_id, button); });
    return el("li", { "data-failed-ticket": String(f.ticket_id) }, [
      el("strong", { text: "Số " + f.number }), " – " + reasonText(f.reason) + " ", button
    ]);
  }

  function render() {
    var body = $("stations");
    body.textContent = "";
    stations.forEach(function (st) {
      body.appendChild(el("tr", { "data-station": st.code, "data-online": String(st.online) }, [
        el("td", {}, [el("strong", { text: st.code }), el("br"), st.name || ""]),
        el("td", {}, [
          el("span", { className: st.online ? "d-online" : "d-offline", text: st.online ? "Trực tuyến" : "Không kết nối" }),
          el("br"), el("span", { className: "p-meta", text: st.last_seen_at ? "lần cuối " + S.dmy(st.last_seen_at) : "chưa từng kết nối" })
        ]),
        el("td", {}, [st.devices.length ? el("ul", { className: "d-devices" }, st.devices.map(deviceItem)) : "—"]),
        el("td", {}, [st.failed_prints.length ? el("ul", { className: "d-devices" }, st.failed_prints.map(failedItem)) : "—"])
      ]));
    });
  }

  function refresh() {
    return S.api("GET", "/api/v1/stations?centre_id=" + centreId).then(function (list) {
      $("error").hidden = true;
      stations = list;
      render();
    }).catch(fail);
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 300);
  }

  function onDeviceStatus(e) {
    var station = stations.filter(function (s) { return s.id === e.station_id; })[0];
    if (!station) return refreshSoon();
    var found = false;
    station.devices.forEach(function (d) {
      if (d.name === e.device) { d.kind = e.kind; d.state = e.state; d.reason = e.reason; d.at = e.at; found = true; }
    });
    if (!found) station.devices.push({ name: e.device, kind: e.kind, state: e.state, reason: e.reason, at: e.at });
    station.online = true;
    render();
    refreshSoon(); // failed prints come with a printer's fault
  }

  function lowItem(r) {
    return el("li", { "data-rating": String(r.id) }, [
      el("strong", { text: r.label + " (" + r.level + "/5)" }), " – " + (r.counter_name || "Quầy") +
      (r.ticket_number ? ", phiếu số " + r.ticket_number : ", không gắn phiếu") +
      (r.service_name ? ", " + r.service_name : "") + (r.staff_id ? ", cán bộ #" + r.staff_id : "") +
      " · " + S.dmy(r.pressed_at)
    ]);
  }

  function showLow(ratings) {
    var list = $("low-ratings");
    ratings.forEach(function (r) {
      if (!list.querySelector('[data-rating="' + r.id + '"]')) list.insertBefore(lowItem(r), list.firstChild);
    });
    $("no-low").hidden = list.children.length > 0;
  }

  function loadLow() {
    return S.api("GET", "/api/v1/ratings?max_level=2&centre_id=" + centreId).then(function (list) {
      showLow(list.slice().reverse());
    }).catch(fail);
  }

  function connect() {
    if (typeof io === "undefined") { $("live").setAttribute("data-socket", "disconnected"); return; }
    var socket = io("/hall", { transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      socket.emit("subscribe", { centre_id: centreId }, function () {
        $("live").setAttribute("data-socket", "connected");
        refresh(); // back to the truth after any reconnect
      });
    });
    socket.on("disconnect", function () { $("live").setAttribute("data-socket", "disconnected"); });
    socket.on("device.status", onDeviceStatus);
    socket.on("station.status", refreshSoon);
    socket.on("rating.recorded", function (e) {
      if (e.rating && e.rating.level <= 2 && e.rating.counted) showLow([e.rating]);
    });
  }

  S.requireLogin(["supervisor", "admin"], function () {
    refresh();
    loadLow();
    connect();
    setInterval(refresh, 30000); // last seen times and anything a lost event missed
  });
})();
