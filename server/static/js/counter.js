/* Counter staff page: log in, pick a counter, call and serve; kept live over Socket.IO /hall.
 *
 * The server owns every state change. This page only asks (HTTP API, bearer token kept in
 * sessionStorage) and shows what the server answers or broadcasts. On every (re)connect the
 * hall snapshot replaces whatever the page believed.
 */
(function () {
  "use strict";

  const app = document.getElementById("counter-app");
  const API = app.dataset.api || "/api/v1";
  const URL_CENTRE = parseInt(app.dataset.centreId, 10) || null;

  // The token lives as long as the tab; the counter choice and today's no-shows survive it.
  const STORE = window.sessionStorage;
  const KEEP = window.localStorage;
  const K_SESSION = "tthcc.counter.session";
  const K_ACTIVE = "tthcc.counter.active";
  const K_STARTED = "tthcc.counter.started";
  const K_NO_SHOWS = "tthcc.counter.noshows.";
  const kLast = (centreId) => `tthcc.counter.last.${centreId}`;
  const kNoShows = (counterId) => `${K_NO_SHOWS}${counterId}.${today()}`;

  const TICKET_STATUS_VI = {
    waiting: "Đang chờ",
    called: "Đã gọi",
    serving: "Đang phục vụ",
    done: "Đã xong",
    no_show: "Vắng mặt",
  };
  const COUNTER_STATUS_VI = { open: "Đang mở", paused: "Tạm dừng", closed: "Đã đóng" };
  // The server sends the label; these cover an older server (normalised levels, DOMAIN.md).
  const RATING_LABELS = {
    5: "Rất hài lòng",
    4: "Hài lòng",
    3: "Bình thường",
    2: "Không hài lòng",
    1: "Rất không hài lòng",
  };
  const RATING_NOTICE_MS = 8000;
  const AT_COUNTER = new Set(["called", "serving"]);
  const EXPIRED = {
    vi: "Phiên đăng nhập đã hết hạn hoặc không còn hiệu lực. Vui lòng đăng nhập lại.",
    en: "Your session has expired. Please log in again.",
  };
  // Button id → the allowed_actions value that enables it.
  const TICKET_BUTTONS = {
    "btn-recall": "recall",
    "btn-start": "start",
    "btn-finish": "finish",
    "btn-no-show": "no_show",
    "btn-transfer": "transfer",
  };

  const state = {
    session: null, // {token, user, expires_at}
    centreId: null,
    counters: new Map(), // id → counter view, kept live
    services: new Map(), // id → service view (name, counters serving it)
    waiting: new Map(), // service id → waiting count
    counterId: null,
    ticket: null, // full ticket (with allowed_actions) now at this counter
    lastTicket: null, // the one that just left the counter, for context
    noShows: [],
    socket: null,
    clockOffset: 0, // server clock − browser clock, ms
    busy: false,
    view: null,
    focusPicker: false,
    expiryTimer: null,
  };

  const $ = (id) => document.getElementById(id);

  // --- small helpers ------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function today() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString("vi-VN", { hour12: false });
  }

  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const pad = (n) => String(n).padStart(2, "0");
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
  }

  function serverNow() {
    return Date.now() + state.clockOffset;
  }

  function counterTitle(c) {
    if (!c) return "Quầy";
    const name = c.name || "";
    return name.startsWith("Quầy") ? name : `Quầy ${c.number}${name ? " – " + name : ""}`;
  }

  function readJson(storage, key, fallback) {
    try {
      const raw = storage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (_) {
      return fallback;
    }
  }

  // --- the banner: every error, never blocking -------------------------------------------

  let bannerTimer = null;

  function showBanner(vi, en, kind) {
    const banner = $("banner");
    $("banner-vi").textContent = vi;
    $("banner-en").textContent = en || "";
    banner.dataset.kind = kind || "error";
    banner.hidden = false;
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(hideBanner, kind === "info" ? 5000 : 15000);
  }

  function hideBanner() {
    $("banner").hidden = true;
  }

  function info(vi, en) {
    showBanner(vi, en, "info");
  }

  // --- the API ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      let vi = body && typeof body.message === "string" ? body.message : "";
      let en = body && typeof body.message_en === "string" ? body.message_en : "";
      // Some errors carry "Vietnamese / English" in one message.
      const cut = vi.indexOf(" / ");
      if (!en && cut > 0) {
        en = vi.slice(cut + 3);
        vi = vi.slice(0, cut);
      }
      if (!vi) vi = `Máy chủ báo lỗi ${status}. Vui lòng thử lại.`;
      super(vi);
      this.status = status;
      this.code = (body && body.error) || null;
      this.vi = vi;
      this.en = en;
      this.handled = false;
    }
  }

  async function api(method, path, body, options) {
    const auth = !options || options.auth !== false;
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && state.session) headers.Authorization = `Bearer ${state.session.token}`;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, {
        message: "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.",
        message_en: "Cannot reach the server.",
      });
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null; // 204, or a proxy's HTML error page
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data);
      if (response.status === 401 && auth && state.session) {
        expireSession();
        error.handled = true;
      }
      throw error;
    }
    return data;
  }

  function report(error) {
    if (error && error.handled) return;
    if (error instanceof ApiError) {
      showBanner(error.vi, error.en, "error");
    } else {
      showBanner("Đã xảy ra lỗi không mong muốn trên trang.", String(error), "error");
    }
  }

  /** Run one user action at a time; buttons are disabled meanwhile, errors reach the banner. */
  async function run(action) {
    if (state.busy) return;
    state.busy = true;
    renderButtons();
    try {
      await action();
    } catch (error) {
      report(error);
    } finally {
      state.busy = false;
      renderButtons();
    }
  }

  // --- views ------------------------------------------------------------------------------

  function showView(name) {
    state.view = name;
    for (const view of ["login", "picker", "counter"]) $(`view-${view}`).hidden = view !== name;
    if (name !== "counter") hideRatingNotice();
    $("session-box").hidden = name === "login";
    $("btn-change-counter").hidden = name !== "counter";
    if (name === "login") {
      closeDialogs();
      $("login-username").focus();
    }
  }

  function closeDialogs() {
    for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  }

  // --- session ----------------------------------------------------------------------------

  function saveSession(data) {
    state.session = {
      token: data.token,
      user: data.user,
      expires_at: Date.now() + (data.expires_in || 12 * 3600) * 1000,
    };
    STORE.setItem(K_SESSION, JSON.stringify(state.session));
    armExpiry();
  }

  function armExpiry() {
    clearTimeout(state.expiryTimer);
    const left = state.session.expires_at - Date.now();
    state.expiryTimer = setTimeout(expireSession, Math.min(Math.max(left, 0), 2 ** 31 - 1));
  }

  function endSession() {
    clearTimeout(state.expiryTimer);
    state.session = null;
    state.counterId = null;
    state.ticket = null;
    state.lastTicket = null;
    // The next person may work for another centre: forget this one's hall.
    state.counters.clear();
    state.services.clear();
    state.waiting.clear();
    $("counter-list").replaceChildren();
    STORE.removeItem(K_SESSION);
    STORE.removeItem(K_ACTIVE);
    if (state.socket) {
      state.socket.disconnect();
      state.socket = null;
    }
    $("login-password").value = "";
    $("login-error").hidden = true;
  }

  function expireSession() {
    if (!state.session) return;
    endSession();
    $("login-note").textContent = EXPIRED.vi;
    showView("login");
    showBanner(EXPIRED.vi, EXPIRED.en, "error");
  }

  function logout() {
    endSession();
    $("login-note").textContent = "";
    showView("login");
    info("Đã đăng xuất.", "Logged out.");
  }

  async function login(event) {
    event.preventDefault();
    $("login-error").hidden = true;
    await run(async () => {
      try {
        const data = await api(
          "POST",
          "/auth/token",
          { username: $("login-username").value.trim(), password: $("login-password").value },
          { auth: false },
        );
        saveSession(data);
      } catch (error) {
        if (error instanceof ApiError) {
          $("login-error").textContent = error.vi;
          $("login-error").hidden = false;
          $("login-password").select();
        }
        throw error;
      }
      $("login-password").value = "";
      $("login-note").textContent = "";
      hideBanner();
      await afterLogin();
    });
  }

  async function afterLogin() {
    const user = state.session.user;
    $("who").textContent = `${user.full_name || user.username} (${roleName(user.role)})`;
    state.centreId = URL_CENTRE || user.centre_id || null;
    if (!state.centreId) {
      const centres = await api("GET", "/centres");
      if (!centres.length) throw new ApiError(404, { message: "Chưa có trung tâm nào." });
      state.centreId = centres[0].id;
    }
    connectLive();
    const active = parseInt(STORE.getItem(K_ACTIVE), 10);
    if (active) {
      try {
        await enterCounter(active);
        return;
      } catch (error) {
        if (!state.session) return; // the token had expired: back at the login form
        report(error); // e.g. the counter no longer exists: choose again
      }
    }
    await showPicker();
  }

  function roleName(role) {
    return { staff: "cán bộ", supervisor: "giám sát", admin: "quản trị" }[role] || role;
  }

  // --- picking a counter ------------------------------------------------------------------

  async function showPicker() {
    state.counterId = null;
    state.ticket = null;
    STORE.removeItem(K_ACTIVE);
    state.focusPicker = true;
    showView("picker");
    const counters = await api("GET", `/counters?centre_id=${state.centreId}`);
    for (const c of counters) applyCounter(c);
    renderPicker();
  }

  function holderText(c) {
    const me = state.session && state.session.user;
    if (c.staff_id === null || c.staff_id === undefined) return "Chưa có cán bộ phụ trách";
    if (me && c.staff_id === me.id) return "Bạn đang phụ trách";
    return `Cán bộ khác đang phụ trách (mã ${c.staff_id})`;
  }

  /** One list item per counter, built once and then updated in place, so a live update
   * arriving while staff press a button never swallows the click. */
  function pickerItem(list, c) {
    let item = list.querySelector(`[data-counter-id="${c.id}"]`);
    if (item) return item;
    item = el(
      "li",
      { class: "counter-item", "data-counter-id": c.id },
      el(
        "div",
        { class: "counter-item-head" },
        el("span", { class: "counter-item-number", text: c.number }),
        el("span", { class: "counter-item-name" }),
        el("span", { class: "badge counter-item-status" }),
        el("span", { class: "badge badge-last", text: "Lần trước" }),
      ),
      el("div", { class: "counter-item-services" }),
      el(
        "div",
        { class: "counter-item-foot" },
        el("span", { class: "counter-item-holder" }),
        el("span", { class: "counter-item-waiting muted" }),
      ),
      el("button", { type: "button", class: "btn btn-primary btn-pick", onclick: () => pickCounter(c.id) }),
    );
    list.append(item);
    return item;
  }

  function renderPicker() {
    if (state.view !== "picker") return;
    const list = $("counter-list");
    const last = parseInt(KEEP.getItem(kLast(state.centreId)), 10);
    const me = state.session && state.session.user;
    const counters = [...state.counters.values()]
      .filter((c) => c.centre_id === state.centreId)
      .sort((a, b) => a.number - b.number);
    const items = counters.map((c) => pickerItem(list, c));
    counters.forEach((c, i) => {
      const item = items[i];
      const waiting = (c.services || []).reduce((n, s) => n + (state.waiting.get(s.id) || 0), 0);
      const taken = c.staff_id != null && me && c.staff_id !== me.id;
      item.className = `counter-item status-${c.status}${c.id === last ? " is-last" : ""}${taken ? " is-taken" : ""}`;
      item.querySelector(".counter-item-name").textContent = counterTitle(c);
      const badge = item.querySelector(".counter-item-status");
      badge.className = `badge counter-item-status badge-${c.status}`;
      badge.textContent = COUNTER_STATUS_VI[c.status] || c.status;
      item.querySelector(".badge-last").hidden = c.id !== last;
      item.querySelector(".counter-item-services").textContent = (c.services || []).map((s) => s.name).join(" · ");
      item.querySelector(".counter-item-holder").textContent = holderText(c);
      item.querySelector(".counter-item-waiting").textContent = `${waiting} người chờ`;
      item.querySelector(".btn-pick").textContent = c.status === "open" && !taken ? "Vào quầy" : "Mở quầy";
    });
    const shown = [...list.children];
    if (shown.length !== items.length || items.some((item, i) => shown[i] !== item)) {
      list.replaceChildren(...items); // counter-number order, only when it changed
    }
    if (state.focusPicker) {
      const lastButton = list.querySelector(".is-last .btn-pick") || list.querySelector(".btn-pick");
      if (lastButton) {
        lastButton.focus();
        state.focusPicker = false;
      }
    }
  }

  function pickCounter(counterId) {
    return run(async () => {
      const counter = await api("POST", `/counters/${counterId}/status`, { status: "open", reason: "" });
      applyCounter(counter);
      hideBanner();
      await enterCounter(counterId, counter);
    });
  }

  // --- working at a counter ---------------------------------------------------------------

  async function enterCounter(counterId, known) {
    const counter = known || (await api("GET", `/counters/${counterId}`));
    applyCounter(counter);
    const me = state.session.user;
    if (me.role === "staff" && counter.staff_id !== null && counter.staff_id !== me.id) {
      showBanner(`${counterTitle(counter)} đang do cán bộ khác phụ trách.`, "This counter is operated by someone else.");
      await showPicker();
      return;
    }
    state.counterId = counterId;
    const dossierLink = document.getElementById("link-dossier");
    dossierLink.href = `/ho-so/quay?counter=${counterId}`;
    dossierLink.hidden = false;
    STORE.setItem(K_ACTIVE, String(counterId));
    KEEP.setItem(kLast(state.centreId), String(counterId));
    if (!state.services.size) await loadServices();
    loadNoShows();
    showView("counter");
    renderCounter();
    await syncCurrent(counter.current_ticket, true);
    validateNoShows();
  }

  async function loadServices() {
    const services = await api("GET", `/services?centre_id=${state.centreId}`);
    for (const s of services) {
      state.services.set(s.id, s);
      state.waiting.set(s.id, s.waiting || 0);
    }
  }

  /** Remember a counter view; an API counter also carries waiting counts for its services. */
  function applyCounter(c) {
    state.counters.set(c.id, c);
    if (c.waiting) {
      for (const [id, n] of Object.entries(c.waiting)) state.waiting.set(Number(id), n);
    }
  }

  function myCounter() {
    return state.counterId ? state.counters.get(state.counterId) : null;
  }

  /** Put a ticket the server returned on screen, or clear the screen if it left the counter. */
  function setTicket(ticket) {
    if (ticket && AT_COUNTER.has(ticket.status) && ticket.counter_id === state.counterId) {
      state.ticket = ticket;
    } else {
      if (ticket && (!state.ticket || state.ticket.id === ticket.id)) state.lastTicket = ticket;
      if (!ticket || !state.ticket || state.ticket.id === ticket.id) state.ticket = null;
    }
    if (ticket && ticket.status === "no_show" && ticket.counter_id === state.counterId) {
      addNoShow(ticket);
    }
    renderTicket();
  }

  let syncSeq = 0;

  /** Make the shown ticket match the counter's current ticket (fetching its allowed actions). */
  async function syncCurrent(current, force) {
    const seq = ++syncSeq;
    if (!current) {
      const left = state.ticket;
      state.ticket = null;
      renderTicket();
      if (left) await refreshLastTicket(left);
      return;
    }
    if (!force && state.ticket && state.ticket.id === current.id && state.ticket.status === current.status) {
      return;
    }
    try {
      const ticket = await api("GET", `/tickets/${current.id}`);
      const now = myCounter();
      const stillCurrent = now && now.current_ticket && now.current_ticket.id === ticket.id;
      if (seq === syncSeq && stillCurrent) setTicket(ticket);
    } catch (error) {
      report(error);
    }
  }

  /** Calling another ticket finishes the one still at the counter (the server does it). */
  function calledInstead(ticket) {
    if (state.ticket && state.ticket.id !== ticket.id) {
      state.lastTicket = { ...state.ticket, status: "done" };
    }
    setTicket(ticket);
  }

  /** It left the counter while this page was not told how (e.g. offline): ask the server. */
  async function refreshLastTicket(left) {
    state.lastTicket = left;
    try {
      const ticket = await api("GET", `/tickets/${left.id}`);
      if (state.lastTicket === left) {
        state.lastTicket = ticket;
        renderTicket();
      }
    } catch (error) {
      report(error);
    }
  }

  function callNext() {
    return run(async () => {
      const ticket = await api("POST", `/counters/${state.counterId}/call-next`);
      hideBanner();
      calledInstead(ticket);
    });
  }

  function ticketAction(path, after) {
    const ticket = state.ticket;
    if (!ticket) return Promise.resolve();
    return run(async () => {
      const result = await api("POST", `/tickets/${ticket.id}/${path}`);
      hideBanner();
      if (after) after(result);
      setTicket(result);
    });
  }

  function recordStart(ticket) {
    const started = readJson(KEEP, K_STARTED, {});
    // Keep only a day's worth: ids only grow, so drop the oldest.
    const ids = Object.keys(started).map(Number).sort((a, b) => a - b);
    for (const id of ids.slice(0, Math.max(0, ids.length - 200))) delete started[id];
    started[ticket.id] = serverNow();
    KEEP.setItem(K_STARTED, JSON.stringify(started));
  }

  function startedAt(ticketId) {
    return readJson(KEEP, K_STARTED, {})[ticketId] || null;
  }

  function openTransfer() {
    const ticket = state.ticket;
    if (!ticket) return;
    const mine = new Set(((myCounter() || {}).services || []).map((s) => s.id));
    const choices = [...state.services.values()]
      .filter((s) => s.id !== ticket.service_id)
      .sort((a, b) => Number(mine.has(b.id)) - Number(mine.has(a.id)));
    $("transfer-number").textContent = ticket.number;
    $("transfer-services").replaceChildren(
      ...choices.map((s) =>
        el(
          "label",
          { class: "service-choice", "data-service-id": s.id },
          el("input", { type: "radio", name: "service", value: s.id, required: true }),
          el("span", { class: "service-choice-name", text: s.name }),
          el("span", {
            class: "muted small",
            text: (s.counters || []).length ? `Quầy ${s.counters.join(", ")}` : "Chưa có quầy phục vụ",
          }),
        ),
      ),
    );
    $("dlg-transfer").showModal();
  }

  function submitTransfer(event) {
    event.preventDefault();
    const chosen = $("form-transfer").querySelector("input[name=service]:checked");
    const ticket = state.ticket;
    $("dlg-transfer").close();
    if (!chosen || !ticket) return;
    const serviceId = Number(chosen.value);
    run(async () => {
      const result = await api("POST", `/tickets/${ticket.id}/transfer`, { service_id: serviceId });
      setTicket(result);
      info(
        `Đã chuyển phiếu ${result.number} sang «${result.service_name}». Phiếu giữ thứ tự theo giờ lấy số.`,
        "Transferred; the ticket keeps its place by issue time.",
      );
    });
  }

  function openCallNumber() {
    $("call-number-input").value = "";
    $("dlg-call-number").showModal();
    $("call-number-input").focus();
  }

  function submitCallNumber(event) {
    event.preventDefault();
    const number = $("call-number-input").value.trim();
    $("dlg-call-number").close();
    if (!number) return;
    run(async () => {
      const ticket = await api("POST", `/counters/${state.counterId}/call`, { number });
      hideBanner();
      calledInstead(ticket);
    });
  }

  function setCounterStatus(status, reason) {
    return run(async () => {
      const counter = await api("POST", `/counters/${state.counterId}/status`, {
        status,
        reason: reason || "",
      });
      applyCounter(counter);
      hideBanner();
      renderCounter();
    });
  }

  function openPause() {
    $("pause-other").value = "";
    $("dlg-pause").showModal();
  }

  function submitPause(event) {
    event.preventDefault();
    const picked = $("form-pause").querySelector("input[name=reason]:checked");
    let reason = picked ? picked.value : "";
    if (!reason) reason = $("pause-other").value.trim() || "Khác";
    $("dlg-pause").close();
    setCounterStatus("paused", reason);
  }

  // --- today's no-shows at this counter (kept in this browser; the API has no list) -------

  function loadNoShows() {
    for (let i = KEEP.length - 1; i >= 0; i--) {
      const key = KEEP.key(i);
      if (key && key.startsWith(K_NO_SHOWS) && !key.endsWith(today())) KEEP.removeItem(key);
    }
    state.noShows = readJson(KEEP, kNoShows(state.counterId), []);
    renderNoShows();
  }

  function saveNoShows() {
    KEEP.setItem(kNoShows(state.counterId), JSON.stringify(state.noShows));
    renderNoShows();
  }

  function addNoShow(ticket) {
    if (state.noShows.some((t) => t.id === ticket.id)) return;
    state.noShows.unshift({
      id: ticket.id,
      number: ticket.number,
      service_name: ticket.service_name,
      at: serverNow(),
    });
    saveNoShows();
  }

  function dropNoShow(ticketId) {
    const before = state.noShows.length;
    state.noShows = state.noShows.filter((t) => t.id !== ticketId);
    if (state.noShows.length !== before) saveNoShows();
  }

  async function validateNoShows() {
    for (const item of [...state.noShows]) {
      try {
        const ticket = await api("GET", `/tickets/${item.id}`);
        if (ticket.status !== "no_show") dropNoShow(item.id);
      } catch (error) {
        if (error.status === 404) dropNoShow(item.id);
      }
    }
  }

  function callNoShow(item) {
    return run(async () => {
      const ticket = await api("POST", `/counters/${state.counterId}/call`, { ticket_id: item.id });
      hideBanner();
      dropNoShow(item.id);
      calledInstead(ticket);
    });
  }

  function requeueNoShow(item) {
    return run(async () => {
      const ticket = await api("POST", `/tickets/${item.id}/requeue`);
      dropNoShow(item.id);
      info(`Đã xếp phiếu ${ticket.number} trở lại hàng chờ theo giờ lấy số.`, "Put back in line.");
    });
  }

  // --- rendering --------------------------------------------------------------------------

  function renderCounter() {
    const c = myCounter();
    if (!c || state.view !== "counter") return;
    $("counter-title").textContent = counterTitle(c);
    const badge = $("counter-status");
    badge.textContent = COUNTER_STATUS_VI[c.status] || c.status;
    badge.className = `badge badge-${c.status}`;
    $("counter-status-reason").textContent = c.status === "paused" && c.status_reason ? `(${c.status_reason})` : "";
    document.title = `${counterTitle(c)} – TTHCC`;
    renderWaiting();
    renderTicket();
  }

  function renderWaiting() {
    const c = myCounter();
    if (!c) return;
    const services = [...(c.services || [])].sort((a, b) => a.position - b.position);
    let total = 0;
    $("waiting-rows").replaceChildren(
      ...services.map((s) => {
        const n = state.waiting.get(s.id) || 0;
        total += n;
        return el(
          "tr",
          { "data-service-id": s.id, class: n ? "has-waiting" : "" },
          el("th", { text: s.name }),
          el("td", { class: "num", text: n }),
        );
      }),
    );
    $("waiting-total").textContent = total;
  }

  function renderTicket() {
    const t = state.ticket;
    $("ticket-card").dataset.status = t ? t.status : "";
    $("ticket-number").textContent = t ? t.number : "—";
    $("ticket-status").textContent = t ? TICKET_STATUS_VI[t.status] || t.status : "Chưa có phiếu";
    $("ticket-priority").hidden = !(t && t.is_priority);
    $("ticket-service").textContent = t ? t.service_name || "" : "Bấm «Gọi số tiếp theo» để mời công dân.";
    const last = state.lastTicket;
    $("ticket-last").textContent =
      last && (!t || last.id !== t.id)
        ? `Phiếu trước: ${last.number} – ${TICKET_STATUS_VI[last.status] || last.status}` +
          (last.status === "waiting" && last.service_name ? ` (chuyển sang «${last.service_name}»)` : "")
        : "";
    renderElapsed();
    renderButtons();
  }

  function renderElapsed() {
    const t = state.ticket;
    const out = $("ticket-time");
    if (!t) {
      out.textContent = "";
      return;
    }
    const started = t.status === "serving" ? startedAt(t.id) : null;
    const called = t.called_at ? Date.parse(t.called_at) : null;
    const since = started || called;
    if (!since) {
      out.textContent = "";
      return;
    }
    const label = started ? "Bắt đầu phục vụ lúc" : "Gọi lúc";
    const times = t.call_count > 1 ? ` · đã gọi ${t.call_count} lần` : "";
    out.textContent = `${label} ${clock(since - state.clockOffset)} · ${duration(serverNow() - since)}${times}`;
  }

  function renderButtons() {
    const allowed = new Set((state.ticket && state.ticket.allowed_actions) || []);
    const ready = !state.busy && state.counterId !== null;
    $("btn-next").disabled = !ready;
    $("btn-call-number").disabled = !ready;
    for (const [id, action] of Object.entries(TICKET_BUTTONS)) $(id).disabled = !ready || !allowed.has(action);
    const c = myCounter();
    const status = c ? c.status : "closed";
    $("btn-open").hidden = status !== "closed";
    $("btn-resume").hidden = status !== "paused";
    $("btn-pause").hidden = status !== "open";
    $("btn-close").hidden = status === "closed";
    for (const id of ["btn-open", "btn-resume", "btn-pause", "btn-close", "btn-login"]) {
      $(id).disabled = state.busy;
    }
    for (const button of document.querySelectorAll(".btn-pick, .no-shows .btn")) button.disabled = state.busy;
  }

  function renderNoShows() {
    $("no-shows").replaceChildren(
      ...state.noShows.map((item) =>
        el(
          "li",
          { class: "no-show", "data-ticket-id": item.id },
          el("span", { class: "no-show-number", text: item.number }),
          el(
            "span",
            { class: "no-show-buttons" },
            el("button", { type: "button", class: "btn btn-small", onclick: () => callNoShow(item) }, "Gọi lại"),
            el("button", { type: "button", class: "btn btn-small", onclick: () => requeueNoShow(item) }, "Xếp lại hàng"),
          ),
          el("span", {
            class: "no-show-service muted small",
            text: `${item.service_name || ""} · vắng lúc ${clock(item.at - state.clockOffset)}`,
          }),
        ),
      ),
    );
    $("no-shows-empty").hidden = state.noShows.length > 0;
  }

  function setConnection(online) {
    const badge = $("conn-status");
    badge.className = `conn ${online ? "conn-on" : "conn-off"}`;
    badge.textContent = online ? "Trực tuyến" : "Mất kết nối – đang thử lại…";
  }

  // --- live updates -----------------------------------------------------------------------

  function connectLive() {
    if (state.socket) return;
    if (typeof window.io !== "function") {
      showBanner("Không tải được thư viện cập nhật trực tiếp; hãy tải lại trang.", "Socket.IO client missing.");
      return;
    }
    const socket = window.io("/hall", { transports: ["websocket", "polling"] });
    state.socket = socket;
    socket.on("connect", () => {
      setConnection(true);
      socket.emit("subscribe", { centre_id: state.centreId }, (ack) => {
        if (!ack || !ack.ok) {
          showBanner("Không nhận được cập nhật trực tiếp của trung tâm.", (ack && ack.message) || "");
        }
      });
    });
    socket.on("disconnect", () => setConnection(false));
    socket.on("connect_error", () => setConnection(false));
    socket.on("snapshot", onSnapshot);
    socket.on("counter.updated", (payload) => payload && payload.counter && onCounter(payload.counter));
    socket.on("queue.updated", onQueue);
    for (const name of ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.updated"]) {
      socket.on(name, onTicket);
    }
    socket.on("rating.recorded", onRating);
  }

  function onSnapshot(snap) {
    if (!snap || !snap.centre || snap.centre.id !== state.centreId) return;
    if (snap.server_time) state.clockOffset = Date.parse(snap.server_time) - Date.now();
    $("centre-name").textContent = [snap.centre.name, snap.centre.subtitle].filter(Boolean).join(" – ");
    state.waiting.clear();
    for (const s of snap.services || []) {
      state.services.set(s.id, s);
      state.waiting.set(s.id, s.waiting || 0);
    }
    for (const c of snap.counters || []) state.counters.set(c.id, c);
    renderPicker();
    const c = myCounter();
    if (c && state.view === "counter") {
      renderCounter();
      syncCurrent(c.current_ticket, true);
    }
  }

  function onCounter(counter) {
    if (counter.centre_id !== state.centreId) return;
    const before = state.counters.get(counter.id);
    state.counters.set(counter.id, counter);
    renderPicker();
    if (counter.id !== state.counterId || state.view !== "counter") return;
    const me = state.session && state.session.user;
    if (me && counter.staff_id && counter.staff_id !== me.id && (!before || before.staff_id !== counter.staff_id)) {
      showBanner(`${counterTitle(counter)} vừa được giao cho người khác.`, "Someone else took this counter.", "warn");
    }
    renderCounter();
    syncCurrent(counter.current_ticket, false);
  }

  function onQueue(payload) {
    if (!payload || payload.centre_id !== state.centreId) return;
    // Services not listed have nobody waiting.
    for (const id of state.waiting.keys()) state.waiting.set(id, 0);
    for (const s of payload.services || []) state.waiting.set(s.id, s.waiting);
    renderPicker();
    renderWaiting();
  }

  function onTicket(payload) {
    const t = payload && payload.ticket;
    if (!t || state.view !== "counter") return;
    if (t.status === "no_show" && t.counter_id === state.counterId) addNoShow(t);
    else if (t.status !== "no_show") dropNoShow(t.id);
    if (!state.ticket || state.ticket.id !== t.id) return;
    if (t.status === state.ticket.status && t.counter_id === state.counterId) {
      // A recall: same state, new call time and count.
      Object.assign(state.ticket, t);
      renderTicket();
    } else if (!AT_COUNTER.has(t.status) || t.counter_id !== state.counterId) {
      setTicket(t);
    }
    // A status change that stays at the counter (start) comes with counter.updated.
  }

  // --- ratings: tell the staff member, briefly, what the citizen pressed ------------------

  const seenRatings = new Set(); // the event may reach us through two rooms
  let ratingTimer = null;

  function onRating(payload) {
    const r = payload && payload.rating;
    if (!r || state.view !== "counter" || r.counter_id !== state.counterId) return;
    if (r.id !== null && r.id !== undefined) {
      if (seenRatings.has(r.id)) return;
      seenRatings.add(r.id);
    }
    const level = Number(r.level);
    const label = r.label || RATING_LABELS[level] || `mức ${r.level}`;
    const notice = $("rating-notice");
    $("rating-notice-text").textContent = `Công dân đã đánh giá: ${label}`;
    const about = r.ticket_number ? `Phiếu ${r.ticket_number}` : r.attached === false ? "Đánh giá chung của quầy" : "";
    $("rating-notice-detail").textContent = about + (payload.replaces_id ? " · thay cho lần bấm trước" : "");
    notice.dataset.tone = level >= 4 ? "high" : level === 3 ? "mid" : "low";
    notice.dataset.ratingId = r.id ?? "";
    notice.hidden = false;
    clearTimeout(ratingTimer);
    ratingTimer = setTimeout(hideRatingNotice, RATING_NOTICE_MS);
  }

  function hideRatingNotice() {
    clearTimeout(ratingTimer);
    $("rating-notice").hidden = true;
  }

  // --- keyboard ---------------------------------------------------------------------------

  const SHORTCUTS = { F1: "btn-next", " ": "btn-next", F2: "btn-recall", F3: "btn-start", F4: "btn-finish" };

  function onKey(event) {
    if (state.view !== "counter" || document.querySelector("dialog[open]")) return;
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const target = SHORTCUTS[event.key];
    if (!target) return;
    event.preventDefault(); // also stops Space from pressing whichever button has focus
    if (event.repeat) return;
    const button = $(target);
    if (!button.disabled) button.click();
  }

  // --- start ------------------------------------------------------------------------------

  function wire() {
    $("login-form").addEventListener("submit", login);
    $("btn-logout").addEventListener("click", logout);
    $("btn-change-counter").addEventListener("click", () => run(showPicker));
    $("banner-close").addEventListener("click", hideBanner);
    $("btn-next").addEventListener("click", callNext);
    $("btn-recall").addEventListener("click", () => ticketAction("recall"));
    $("btn-start").addEventListener("click", () => ticketAction("start", recordStart));
    $("btn-finish").addEventListener("click", () => ticketAction("finish"));
    $("btn-no-show").addEventListener("click", () => ticketAction("no-show"));
    $("btn-transfer").addEventListener("click", openTransfer);
    $("btn-call-number").addEventListener("click", openCallNumber);
    $("form-transfer").addEventListener("submit", submitTransfer);
    $("form-call-number").addEventListener("submit", submitCallNumber);
    $("form-pause").addEventListener("submit", submitPause);
    $("btn-open").addEventListener("click", () => setCounterStatus("open"));
    $("btn-resume").addEventListener("click", () => setCounterStatus("open"));
    $("btn-pause").addEventListener("click", openPause);
    $("btn-close").addEventListener("click", () => setCounterStatus("closed"));
    $("pause-other").addEventListener("focus", () => {
      $("form-pause").querySelector("input[name=reason][value='']").checked = true;
    });
    for (const button of document.querySelectorAll("dialog [data-close]")) {
      button.addEventListener("click", () => button.closest("dialog").close());
    }
    document.addEventListener("keydown", onKey);
    setInterval(renderElapsed, 1000);
  }

  function boot() {
    wire();
    const saved = readJson(STORE, K_SESSION, null);
    if (saved && saved.token && saved.expires_at > Date.now()) {
      state.session = saved;
      armExpiry();
      run(afterLogin);
    } else {
      if (saved) {
        STORE.removeItem(K_SESSION);
        $("login-note").textContent = EXPIRED.vi;
      }
      showView("login");
    }
  }

  // For tests and the curious: read-only access to the live state and socket.
  window.tthccCounter = { state };

  boot();
})();
