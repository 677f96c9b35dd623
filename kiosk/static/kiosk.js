/* Kiosk page: field -> service -> "LẤY SỐ" (2 taps when a field has one service).
 *
 * Everything goes through the server's JSON API (/api/v1) and Socket.IO (/hall); this file
 * holds no business rule. After a ticket is issued it waits for the printer's answer
 * (print.status on the socket, GET /tickets/{id} every second as a fallback) and shows
 * "Mời quý khách nhận phiếu", or the number with a QR code when printing failed.
 */
(function () {
  "use strict";

  var root = document.getElementById("kiosk");
  var cfg = {
    centreId: intOrNull(root.dataset.centreId),
    stationId: intOrNull(root.dataset.stationId),
    idleResultMs: parseFloat(root.dataset.idleResult) * 1000,
    idleMenuMs: parseFloat(root.dataset.idleMenu) * 1000,
    printTimeoutMs: parseFloat(root.dataset.printTimeout) * 1000,
    api: root.dataset.api,
    qrUrl: root.dataset.qrUrl,
  };
  var REQUEST_TIMEOUT_MS = 10000;
  var POLL_MS = 1000;
  var TAP_GUARD_MS = 350; // a double tap must not land on the next screen's button
  var CATALOG_RETRY_MS = 10000;
  var WEEKDAYS = ["Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
  var MSG = {
    network: [
      "Xin lỗi, kết nối đang tạm gián đoạn. Quý khách vui lòng thử lại sau giây lát.",
      "Sorry, the connection is interrupted. Please try again in a moment.",
    ],
    server: [
      "Xin lỗi, hệ thống đang bận. Quý khách vui lòng thử lại.",
      "Sorry, the system is busy. Please try again.",
    ],
    catalog: [
      "Xin lỗi, chưa tải được danh sách dịch vụ. Quý khách vui lòng thử lại sau giây lát.",
      "Sorry, the list of services could not be loaded. Please try again in a moment.",
    ],
  };

  var state = {
    catalog: null,
    catalogJson: "",
    centreId: cfg.centreId,
    screen: "loading",
    history: [],
    field: null,
    service: null,
    priority: false,
    ticket: null,
    busy: false,
    flow: 0, // bumped on every reset: late answers of an abandoned flow are ignored
    retry: null,
    lastTouch: Date.now(),
    printStatuses: {}, // ticket id -> print.status payload, in case the socket is first
    clock: { skewMs: 0, offsetMin: null },
  };

  function intOrNull(text) {
    var n = parseInt(text, 10);
    return isNaN(n) ? null : n;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  /* A big two-line button: Vietnamese, then English smaller. */
  function choiceButton(className, vi, en, onTap) {
    var button = el("button", "k-btn " + className, vi);
    button.type = "button";
    if (en) button.appendChild(el("span", "en", en));
    button.addEventListener("click", function () {
      if (!state.busy) onTap();
    });
    return button;
  }

  /* --- API --------------------------------------------------------------------------- */

  function ApiError(kind, status, message, messageEn) {
    this.kind = kind; // "network" | "client" | "server"
    this.status = status;
    this.message = message;
    this.messageEn = messageEn;
  }

  function api(method, path, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    var options = { method: method, headers: { Accept: "application/json" }, signal: controller.signal };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(cfg.api + path, options)
      .catch(function () {
        throw new ApiError("network", 0, MSG.network[0], MSG.network[1]);
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (response.ok) return data;
            if (response.status >= 500 || !data || !data.message) {
              throw new ApiError("server", response.status, MSG.server[0], MSG.server[1]);
            }
            // Domain errors carry a Vietnamese message meant for the person at the screen.
            throw new ApiError("client", response.status, data.message, data.message_en || "");
          });
      })
      .finally(function () {
        clearTimeout(timer);
      });
  }

  /* --- screens ----------------------------------------------------------------------- */

  function show(screen) {
    var sections = document.querySelectorAll(".k-screen");
    for (var i = 0; i < sections.length; i++) {
      sections[i].hidden = sections[i].id !== "screen-" + screen;
    }
    state.screen = screen;
    root.dataset.screen = screen;
    touch();
    guardTaps($("screen-" + screen));
  }

  /* Buttons of a new screen ignore taps briefly, so the second tap of a double tap
     does not choose something on the screen that just appeared. */
  function guardTaps(section) {
    var buttons = section.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    var flow = state.flow;
    var screen = state.screen;
    setTimeout(function () {
      if (state.flow === flow && state.screen === screen && !state.busy) setDisabled(section, false);
    }, TAP_GUARD_MS);
  }

  function setDisabled(section, disabled) {
    var buttons = section.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = disabled;
  }

  function go(screen) {
    state.history.push(state.screen);
    show(screen);
  }

  function back() {
    var previous = state.history.pop();
    if (!previous || previous === "loading" || previous === "error") return reset();
    show(previous);
  }

  function reset() {
    state.flow += 1;
    state.history = [];
    state.field = null;
    state.service = null;
    state.ticket = null;
    setBusy(false);
    state.retry = null;
    if (state.catalog) {
      show("fields");
      refreshCatalog();
    } else {
      loadCatalog();
    }
  }

  function showError(error, retry) {
    $("error-message").textContent = error.message;
    $("error-message-en").textContent = error.messageEn || "";
    state.retry = retry;
    state.history = [];
    show("error");
  }

  /* --- catalogue: fields, services, priority categories ------------------------------- */

  function catalogPath() {
    return "/catalog" + (state.centreId ? "?centre_id=" + state.centreId : "");
  }

  function loadCatalog() {
    show("loading");
    var flow = state.flow;
    api("GET", catalogPath())
      .then(function (catalog) {
        if (flow !== state.flow) return;
        applyCatalog(catalog);
        show("fields");
      })
      .catch(function (error) {
        if (flow !== state.flow) return;
        showError(error.kind === "client" ? error : new ApiError("network", 0, MSG.catalog[0], MSG.catalog[1]), loadCatalog);
        // Nobody may be there to press "retry": keep trying on our own.
        setTimeout(function () {
          if (flow === state.flow && state.screen === "error" && !state.catalog) loadCatalog();
        }, CATALOG_RETRY_MS);
      });
  }

  /* Pick up changes made by an administrator; keep the old catalogue if this fails. */
  function refreshCatalog() {
    api("GET", catalogPath())
      .then(function (catalog) {
        if (state.screen === "fields") applyCatalog(catalog);
      })
      .catch(function () {});
  }

  function applyCatalog(catalog) {
    var json = JSON.stringify(catalog);
    if (json === state.catalogJson) return;
    state.catalog = catalog;
    state.catalogJson = json;
    if (!state.centreId) {
      state.centreId = catalog.centre.id;
      subscribe();
    }
    $("centre-name").textContent = catalog.centre.name;
    $("centre-sub").textContent = catalog.centre.subtitle || "";
    var grid = $("fields-grid");
    grid.textContent = "";
    catalog.fields.forEach(function (field) {
      var button = choiceButton("k-choice k-field", field.name, field.name_en, function () {
        chooseField(field);
      });
      button.dataset.fieldId = field.id;
      grid.appendChild(button);
    });
    $("priority-block").hidden = !catalog.priority_categories.length;
  }

  function chooseField(field) {
    state.field = field;
    if (field.services.length === 1) {
      chooseService(field.services[0]);
      return;
    }
    $("services-title").textContent = field.name;
    var grid = $("services-grid");
    grid.textContent = "";
    field.services.forEach(function (service) {
      var button = choiceButton("k-choice k-service", service.name, service.name_en, function () {
        chooseService(service);
      });
      button.dataset.serviceId = service.id;
      grid.appendChild(button);
    });
    go("services");
  }

  function chooseService(service) {
    state.service = service;
    $("confirm-field").textContent = state.field.name;
    $("confirm-service").textContent = service.name;
    $("confirm-service-en").textContent = service.name_en || "";
    setPriority(false);
    renderCategories();
    go("confirm");
  }

  function renderCategories() {
    var list = $("priority-list");
    list.textContent = "";
    state.catalog.priority_categories.forEach(function (category) {
      var button = choiceButton("k-category", category.name, category.name_en, function () {
        issue(category.id);
      });
      button.dataset.categoryId = category.id;
      list.appendChild(button);
    });
  }

  /* The toggle swaps the big button for the categories: tapping one issues the priority
     ticket, so there is never a "priority on but nothing chosen" state to get wrong. */
  function setPriority(on) {
    state.priority = on;
    $("btn-priority").setAttribute("aria-pressed", on ? "true" : "false");
    $("screen-confirm").classList.toggle("is-priority", on);
    $("priority-list").hidden = !on;
    $("priority-hint").hidden = !on;
    $("btn-get").hidden = on;
  }

  /* --- issuing ----------------------------------------------------------------------- */

  function newRequestId() {
    // crypto.randomUUID needs a secure context; a kiosk on plain http over the LAN has none.
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function issue(categoryId, requestId) {
    if (state.busy || !state.service) return;
    setBusy(true);
    setDisabled($("screen-confirm"), true);
    $("confirm-status").hidden = false;
    var flow = state.flow;
    // The same id on a retry: if the first answer was lost, the server returns that ticket
    // instead of issuing a second one.
    var body = { service_id: state.service.id, request_id: requestId || newRequestId() };
    if (categoryId != null) body.priority_category = categoryId;
    if (cfg.stationId !== null) body.station_id = cfg.stationId;
    api("POST", "/tickets", body)
      .then(function (ticket) {
        if (flow !== state.flow) return;
        setBusy(false);
        $("confirm-status").hidden = true;
        showResult(ticket);
      })
      .catch(function (error) {
        if (flow !== state.flow) return;
        setBusy(false);
        $("confirm-status").hidden = true;
        showError(error, function () {
          show("confirm");
          issue(categoryId, body.request_id);
        });
      });
  }

  function setBusy(busy) {
    state.busy = busy;
    root.classList.toggle("is-busy", busy);
  }

  function showResult(ticket) {
    state.ticket = ticket;
    state.history = [];
    $("result-number").textContent = ticket.number;
    $("result-service").textContent = ticket.service_name;
    $("result-ahead").textContent = ticket.waiting_ahead;
    var category = null;
    state.catalog.priority_categories.forEach(function (c) {
      if (c.id === ticket.priority_category_id) category = c;
    });
    $("result-priority").hidden = !category;
    $("result-priority").textContent = category ? "Ưu tiên: " + category.name : "";
    $("result-qr").removeAttribute("src");
    show("result");
    if (!ticket.print_job_id) {
      setPrint("fallback"); // no station or no printer: nothing will come out
    } else {
      setPrint("pending");
      waitForPrinter(ticket);
    }
  }

  function setPrint(status) {
    var section = $("screen-result");
    section.dataset.print = status;
    if (status === "fallback" && state.ticket) {
      $("result-qr").src = cfg.qrUrl.replace("CODE", encodeURIComponent(state.ticket.public_code));
    }
  }

  /* The printer's answer comes on the socket; the API is polled in case the socket is
     down. Past the timeout the number and QR are shown, but a late "printed" still wins. */
  function waitForPrinter(ticket) {
    var flow = state.flow;
    var settled = false;

    function active() {
      return !settled && flow === state.flow && state.ticket && state.ticket.id === ticket.id;
    }

    function settle(status) {
      if (!active()) return;
      if (status === "printed") {
        settled = true;
        setPrint("printed");
      } else if (status === "failed") {
        settled = true;
        setPrint("fallback");
      }
    }

    state.onPrintStatus = function (payload) {
      if (payload.ticket_id === ticket.id) settle(payload.status);
    };
    var early = state.printStatuses[ticket.id];
    if (early) settle(early.status);

    function poll() {
      if (!active()) return;
      api("GET", "/tickets/" + ticket.id)
        .then(function (fresh) {
          settle(fresh.print_status);
        })
        .catch(function () {})
        .then(function () {
          if (active()) setTimeout(poll, POLL_MS);
        });
    }
    setTimeout(poll, POLL_MS);
    setTimeout(function () {
      if (active() && $("screen-result").dataset.print === "pending") setPrint("fallback");
    }, cfg.printTimeoutMs);
  }

  /* --- Socket.IO --------------------------------------------------------------------- */

  var socket = null;

  function subscribe() {
    if (!socket || !socket.connected || !state.centreId) return;
    var payload = { centre_id: state.centreId };
    if (cfg.stationId !== null) payload.station_id = cfg.stationId;
    socket.emit("subscribe", payload, function (answer) {
      root.dataset.socket = answer && answer.ok ? "connected" : "refused";
    });
  }

  function connectSocket() {
    if (typeof window.io !== "function") return;
    socket = window.io("/hall", { transports: ["websocket", "polling"] });
    socket.on("connect", subscribe);
    socket.on("disconnect", function (reason) {
      root.dataset.socket = "disconnected";
      // The client retries by itself except after a server-side disconnect.
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("snapshot", function (snapshot) {
      setServerTime(snapshot.server_time);
      if (snapshot.centre) {
        $("centre-name").textContent = snapshot.centre.name;
        $("centre-sub").textContent = snapshot.centre.subtitle || "";
      }
    });
    socket.on("print.status", function (payload) {
      if (!payload || typeof payload.ticket_id !== "number") return;
      if (Object.keys(state.printStatuses).length > 50) state.printStatuses = {}; // runs for weeks
      state.printStatuses[payload.ticket_id] = payload;
      if (state.onPrintStatus) state.onPrintStatus(payload);
    });
  }

  /* --- clock: centre time, from the server's clock once known ------------------------- */

  function setServerTime(text) {
    var parsed = Date.parse(text);
    var match = /([+-])(\d{2}):?(\d{2})$/.exec(text || "");
    if (isNaN(parsed) || !match) return;
    state.clock.skewMs = parsed - Date.now();
    state.clock.offsetMin = (match[1] === "-" ? -1 : 1) * (parseInt(match[2], 10) * 60 + parseInt(match[3], 10));
    tick();
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function tick() {
    var offset = state.clock.offsetMin;
    var now = new Date(Date.now() + state.clock.skewMs + (offset === null ? 0 : offset * 60000));
    var utc = offset !== null; // shifted to centre time: read the UTC fields
    var day = utc ? now.getUTCDay() : now.getDay();
    var date = utc ? now.getUTCDate() : now.getDate();
    var month = (utc ? now.getUTCMonth() : now.getMonth()) + 1;
    var year = utc ? now.getUTCFullYear() : now.getFullYear();
    var hours = utc ? now.getUTCHours() : now.getHours();
    var minutes = utc ? now.getUTCMinutes() : now.getMinutes();
    $("clock-date").textContent = WEEKDAYS[day] + ", " + pad(date) + "/" + pad(month) + "/" + year;
    $("clock-time").textContent = pad(hours) + ":" + pad(minutes);
  }

  /* --- idle: back to the start screen ------------------------------------------------ */

  function touch() {
    state.lastTouch = Date.now();
  }

  function checkIdle() {
    if (state.screen === "fields" || state.screen === "loading") return;
    if (state.screen === "error" && !state.catalog) return; // retrying on its own
    var limit = state.screen === "result" ? cfg.idleResultMs : cfg.idleMenuMs;
    if (Date.now() - state.lastTouch >= limit) reset();
  }

  /* --- wiring ------------------------------------------------------------------------ */

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    var action = button.dataset.action;
    if (action === "back" && !state.busy) back();
    else if (action === "home") reset();
    else if (action === "get") issue(null);
    else if (action === "priority" && !state.busy) setPriority(!state.priority);
    else if (action === "retry" && state.retry) state.retry();
  });
  ["pointerdown", "touchstart", "keydown"].forEach(function (name) {
    document.addEventListener(name, touch, { passive: true, capture: true });
  });
  document.addEventListener("contextmenu", function (event) {
    event.preventDefault(); // a long press must not open a menu
  });

  tick();
  setInterval(tick, 1000);
  setInterval(checkIdle, 250);
  connectSocket();
  loadCatalog();
})();
