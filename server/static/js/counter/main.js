// The counter staff page: log in, choose a counter, call and serve. The server owns every
// state change: this page asks (HTTP API, bearer token) and shows what the server answers
// or broadcasts on /hall. Modules by concern:
//   state.js (what the page knows) · session.js (token, API calls, one action at a time)
//   notices.js (banner, rating note) · picker.js (choosing a counter)
//   current.js (the ticket at the counter) · calling.js (call, ask once, finish, …)
//   lines.js (waiting counts, open/pause/close) · noshows.js (today's no-shows, from the API)
//   dialogs.js (questions) · keyboard.js (F1–F4, Space) · live.js (the hall connection)

import { byId, jsonBlock, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { callNext, callNumber, finish, noShow, recall, start, transfer } from "./calling.js";
import { renderButtons, renderElapsed, renderTicket, syncCurrent } from "./current.js";
import { closeDialogs } from "./dialogs.js";
import { listenToKeys } from "./keyboard.js";
import { applyCounter, pause, renderDuty, renderWaiting, setDuty } from "./lines.js";
import { connect, disconnect } from "./live.js";
import { loadNoShows, renderNoShowButtons, renderNoShows } from "./noshows.js";
import { hideBanner, hideRating, report, say } from "./notices.js";
import { clearPicker, initPicker, loadPicker, rememberCounter, renderPicker } from "./picker.js";
import { call, endSession, logIn, logOut, restore, roleName, run } from "./session.js";
import { counterTitle, listen, myCounter, state } from "./state.js";

const config = jsonBlock("counter-config", {});
const K_ACTIVE = "tthcc.counter.active";

// --- views --------------------------------------------------------------------------------

function showView(name) {
  state.view = name;
  for (const view of ["login", "picker", "counter"]) byId(`view-${view}`).hidden = view !== name;
  if (name !== "counter") hideRating();
  byId("session-box").hidden = name === "login";
  byId("btn-change-counter").hidden = name !== "counter";
  byId("link-dossier").hidden = name !== "counter";
  if (name === "login") {
    closeDialogs();
    byId("login-username").focus();
  }
}

function renderCounter() {
  const counter = myCounter();
  if (!counter || state.view !== "counter") return;
  setText(byId("counter-title"), counterTitle(counter));
  document.title = `${counterTitle(counter)} – TTHCC`;
  renderDuty();
}

// --- the shift: log in, choose a counter, work, log out ------------------------------------

async function submitLogin(event) {
  event.preventDefault();
  const error = byId("login-error");
  error.hidden = true;
  await run(async () => {
    try {
      await logIn(byId("login-username").value.trim(), byId("login-password").value);
    } catch (err) {
      setText(error, err.message);
      error.hidden = false;
      byId("login-password").select();
      throw err;
    }
    byId("login-password").value = "";
    setText(byId("login-note"), "");
    hideBanner();
    await afterLogin();
  });
}

async function afterLogin() {
  const user = state.session.user;
  setText(byId("who"), `${user.full_name || user.username} (${roleName(user.role)})`);
  state.centreId = config.centre_id || user.centre_id || null;
  if (!state.centreId) {
    const centres = await call("GET", "centres");
    if (!centres.length) throw new Error("no centre");
    state.centreId = centres[0].id;
  }
  connect();
  const active = Number.parseInt(sessionStorage.getItem(K_ACTIVE), 10);
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

async function showPicker() {
  state.counterId = null;
  state.ticket = null;
  state.noShows = [];
  sessionStorage.removeItem(K_ACTIVE);
  showView("picker");
  await loadPicker();
}

async function enterCounter(counterId, known = null) {
  const counter = known || (await call("GET", `counters/${counterId}`));
  applyCounter(counter);
  const me = state.session.user;
  if (me.role === "staff" && counter.staff_id !== null && counter.staff_id !== me.id) {
    say("counter.held_by_other", { counter: counterTitle(counter) }, "error");
    await showPicker();
    return;
  }
  state.counterId = counterId;
  state.ticket = null;
  state.lastTicket = null;
  state.noShows = [];
  byId("link-dossier").href = `/ho-so/quay?counter=${counterId}`;
  sessionStorage.setItem(K_ACTIVE, String(counterId));
  rememberCounter(counterId);
  if (!state.services.size) await loadServices();
  showView("counter");
  renderCounter();
  renderWaiting();
  renderTicket();
  renderNoShows();
  await Promise.all([syncCurrent(counter.current_ticket, true), loadNoShows()]);
}

async function loadServices() {
  for (const s of await call("GET", `services?centre_id=${state.centreId}`)) {
    state.services.set(s.id, s);
    state.waiting.set(s.id, s.waiting || 0);
  }
}

/** Forget everything of this session (the next person may work for another centre). */
function forget() {
  endSession();
  disconnect();
  Object.assign(state, { centreId: null, centre: null, counterId: null, ticket: null, lastTicket: null, noShows: [] });
  state.counters.clear();
  state.services.clear();
  state.waiting.clear();
  sessionStorage.removeItem(K_ACTIVE);
  clearPicker();
  byId("login-password").value = "";
  byId("login-error").hidden = true;
}

async function logout() {
  await logOut();
  forget();
  setText(byId("login-note"), "");
  showView("login");
  say("counter.logged_out");
}

function expired() {
  forget();
  setText(byId("login-note"), t("counter.expired"));
  showView("login");
  say("counter.expired", null, "error");
}

// --- start --------------------------------------------------------------------------------

function wire() {
  const click = (id, fn) => byId(id).addEventListener("click", () => fn());
  byId("login-form").addEventListener("submit", submitLogin);
  click("btn-logout", logout);
  click("btn-change-counter", () => run(showPicker));
  click("banner-close", hideBanner);
  click("btn-next", callNext);
  click("btn-recall", () => recall());
  click("btn-start", start);
  click("btn-finish", () => finish("served"));
  for (const outcome of ["supplement", "redirected", "left"]) click(`btn-finish-${outcome}`, () => finish(outcome));
  click("btn-no-show", noShow);
  click("btn-transfer", transfer);
  click("btn-call-number", callNumber);
  click("btn-open", () => setDuty("open"));
  click("btn-resume", () => setDuty("open"));
  click("btn-pause", pause);
  click("btn-close", () => setDuty("closed"));
  byId("pause-other").addEventListener("focus", () => {
    byId("form-pause").querySelector("input[name=reason][value='']").checked = true;
  });
  initPicker((counterId, counter) => enterCounter(counterId, counter));
  listen("busy", () => {
    renderButtons();
    renderDuty();
    renderNoShowButtons();
    renderPicker();
    byId("btn-login").disabled = state.busy;
    // Assistive technology (and the tests) can tell when the page is ready for the next key.
    document.body.setAttribute("aria-busy", String(state.busy));
  });
  listen("ticket", renderTicket);
  listen("counter", () => {
    renderCounter();
    renderWaiting();
  });
  listen("counters", renderPicker);
  listen("waiting", () => {
    renderPicker();
    renderWaiting();
  });
  listen("noShows", renderNoShows);
  listen("expired", expired);
  listenToKeys();
  setInterval(renderElapsed, 1000);
}

function boot() {
  wire();
  // Earlier versions kept no-shows and start times in this browser: the server has them.
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("tthcc.counter.noshows.") || key === "tthcc.counter.started") localStorage.removeItem(key);
  }
  const restored = restore();
  if (restored === "ok") {
    run(afterLogin);
    return;
  }
  if (restored === "expired") setText(byId("login-note"), t("counter.expired"));
  showView("login");
}

// For tests and the curious: the live state (and its hall connection), read-only in spirit.
window.tthccCounter = { state };

boot();
