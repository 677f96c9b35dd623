// Kiosk "Phản ánh, kiến nghị" as a touch flow: about what → (which counter) → the message,
// typed on the on-screen keyboard → contact details only with consent → review → sent, with
// the reference to ask about the answer. POST /api/v1/feedback (source "kiosk"); the idle
// reset leaves the page, so nothing the previous person typed stays.

import { api } from "/assets/js/lib/api.js";
import { byId, el, setChildren, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { Keyboard } from "./keyboard.js";
import { KioskPage } from "./page.js";

const MIN_CONTENT = 5;
const page = new KioskPage();
const ABOUT_TEXT = {
  procedure: "Quy định, thủ tục hành chính",
  staff: "Cán bộ, công chức tại Trung tâm",
  other: "Nội dung khác",
};
const form = { about: null, counterId: null, content: "", consent: false, name: "", phone: "" };
const history = [];
let screen = "about";
let sending = false;

function go(next, { remember = true } = {}) {
  if (remember) history.push(screen);
  screen = next;
  page.show(next);
  byId("btn-next").hidden = !["content", "contact"].includes(next);
}

function back() {
  const previous = history.pop();
  if (!previous || screen === "done") page.home();
  else go(previous, { remember: false });
}

function chooseAbout(about) {
  form.about = about;
  form.counterId = null;
  for (const b of byId("about").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.about === about));
  go(about === "staff" ? "counter" : "content");
}

function renderCounters() {
  const choices = page.config.counters.map((c) =>
    el("button", { type: "button", class: "k-btn", dataset: { counterId: c.id }, onclick: () => chooseCounter(c.id) }, c.label),
  );
  choices.push(el("button", { type: "button", class: "k-btn", onclick: () => chooseCounter(null) }, t("kiosk.not_remembered")));
  setChildren(byId("counters"), choices);
}

function chooseCounter(counterId) {
  form.counterId = counterId;
  go("content");
}

function next() {
  if (screen === "content") {
    form.content = byId("content").value.trim();
    if (form.content.length < MIN_CONTENT) {
      setText(byId("content-error"), t("kiosk.feedback_short"));
      byId("content-error").hidden = false;
      return;
    }
    byId("content-error").hidden = true;
    go("consent");
  } else if (screen === "contact") {
    form.name = byId("contact-name").value.trim();
    form.phone = byId("contact-phone").value.trim();
    if (!form.name && !form.phone) {
      setText(byId("contact-error"), t("kiosk.feedback_phone_needed"));
      byId("contact-error").hidden = false;
      return;
    }
    byId("contact-error").hidden = true;
    review();
  }
}

function consent(yes) {
  form.consent = yes;
  if (yes) go("contact");
  else {
    form.name = "";
    form.phone = "";
    review();
  }
}

function review() {
  setText(byId("review-about"), ABOUT_TEXT[form.about]);
  setText(byId("review-content"), form.content);
  setText(byId("review-contact"), form.consent ? [form.name, form.phone].filter(Boolean).join(" · ") : t("kiosk.feedback_contact_no"));
  byId("send-error").hidden = true;
  go("review");
}

async function send() {
  if (sending) return;
  sending = true;
  byId("send").disabled = true;
  const body = { about: form.about, content: form.content, source: "kiosk", centre_id: page.config.feedback_centre_id, consent: form.consent };
  if (form.about === "staff" && form.counterId) body.counter_id = form.counterId;
  if (form.consent) {
    body.contact = {};
    if (form.name) body.contact.name = form.name;
    if (form.phone) body.contact.phone = form.phone;
  }
  try {
    const answer = await api("POST", "feedback", { body });
    setText(byId("reference"), answer.reference);
    const [y, m, d] = answer.due_date.split("-");
    setText(byId("due"), `${d}/${m}/${y}`);
    setText(byId("done-contact"), t(answer.contact_stored ? "kiosk.feedback_contact_yes" : "kiosk.feedback_contact_no"));
    history.length = 0;
    go("done", { remember: false });
  } catch (error) {
    setText(byId("send-error"), error.message);
    byId("send-error").hidden = false;
  } finally {
    sending = false;
    byId("send").disabled = false;
  }
}

const keyboard = new Keyboard(byId("keyboard")).attach(byId("content"));
const contactKeyboard = new Keyboard(byId("contact-keyboard")).attach(byId("contact-name"));
for (const id of ["contact-name", "contact-phone"]) {
  byId(id).addEventListener("focus", () => contactKeyboard.attach(byId(id)));
}
byId("about").addEventListener("click", (event) => {
  const button = event.target.closest("[data-about]");
  if (button) chooseAbout(button.dataset.about);
});
byId("consent-yes").addEventListener("click", () => consent(true));
byId("consent-no").addEventListener("click", () => consent(false));
byId("btn-next").addEventListener("click", next);
byId("btn-back").addEventListener("click", back);
byId("send").addEventListener("click", send);
renderCounters();

window.tthccKioskFeedback = { page, form, keyboard };
page.show("about");
