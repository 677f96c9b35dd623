// The kiosk's on-screen Vietnamese keyboard (the kiosk has no physical one).
//
//   const kb = new Keyboard(byId("kb"), { layout: "text" }).attach(byId("q"));
//
// - Letters, digits, space, delete, clear.
// - Accented letters two ways: the row "ă â ê ô ơ ư đ" and the five tone keys, which put the
//   tone on the right vowel of the word being typed (spelling rules in vietnamese.js); or a
//   long press on a vowel (or d), which opens its accented forms to choose from.
// - layout "digits": a phone-number pad.
// Typing goes into the attached <input>/<textarea> at its caret and fires "input" events,
// so pages listen to their fields as usual. Fields have inputmode="none": no system keyboard.

import { el, setChildren } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";
import { TONES, applyTone, variants } from "./vietnamese.js";

const LONG_PRESS_MS = 450;
const LETTER_ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
const ACCENTED = "ăâêôơưđ";
// Shown on a dotted circle, as the marks are drawn in Vietnamese primers.
const TONE_KEYS = [
  ["acute", "\u25cc\u0301"],
  ["grave", "\u25cc\u0300"],
  ["hook", "\u25cc\u0309"],
  ["tilde", "\u25cc\u0303"],
  ["dot", "\u25cc\u0323"],
];

export class Keyboard {
  constructor(container, { layout = "text", onDone = null } = {}) {
    this.container = container;
    this.layout = layout;
    this.onDone = onDone;
    this.target = null;
    this.pressTimer = null;
    this.longPressed = false;
    this.render();
  }

  /** Type into this field from now on. */
  attach(field) {
    this.target = field;
    field.setAttribute("inputmode", "none");
    return this;
  }

  render() {
    const rows = this.layout === "digits" ? this.digitRows() : this.textRows();
    this.popup = el("div", { class: "kb-popup", hidden: true, role: "group", "aria-label": t("kiosk.kb_hint") });
    setChildren(this.container, [this.popup, ...rows]);
    this.container.classList.add("kb", `kb-${this.layout}`);
    this.container.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.container.addEventListener("pointerup", () => this.cancelPress());
    this.container.addEventListener("pointerleave", () => this.cancelPress());
    this.container.addEventListener("click", (e) => this.click(e));
  }

  textRows() {
    const rows = LETTER_ROWS.map((letters, i) =>
      el(
        "div",
        { class: "kb-row" },
        Array.from(letters).map((ch) => this.key(ch, ch)),
        i === LETTER_ROWS.length - 1 ? this.key("delete", "⌫", { label: t("kiosk.kb_delete"), wide: true }) : null,
      ),
    );
    rows.push(
      el(
        "div",
        { class: "kb-row kb-accents" },
        Array.from(ACCENTED).map((ch) => this.key(ch, ch)),
        TONE_KEYS.map(([name, mark]) => this.key(`tone:${name}`, mark, { label: t(`kiosk.kb_tone_${name}`), tone: true })),
      ),
    );
    rows.push(
      el(
        "div",
        { class: "kb-row" },
        this.key("clear", t("kiosk.kb_clear"), { wide: true }),
        this.key(" ", t("kiosk.kb_space"), { space: true }),
        this.onDone ? this.key("done", t("kiosk.kb_done"), { wide: true, done: true }) : null,
      ),
    );
    return rows;
  }

  digitRows() {
    return ["123", "456", "789"].map((row) => el("div", { class: "kb-row" }, Array.from(row).map((d) => this.key(d, d))))
      .concat([el("div", { class: "kb-row" }, this.key("clear", t("kiosk.kb_clear")), this.key("0", "0"), this.key("delete", "⌫", { label: t("kiosk.kb_delete") }))]);
  }

  key(value, text, { label = null, wide = false, space = false, tone = false, done = false } = {}) {
    const classes = ["kb-key"];
    if (wide) classes.push("kb-wide");
    if (space) classes.push("kb-space");
    if (tone) classes.push("kb-tone");
    if (done) classes.push("kb-done");
    return el("button", { type: "button", class: classes.join(" "), dataset: { key: value }, "aria-label": label }, text);
  }

  pointerDown(event) {
    const key = event.target.closest(".kb-key");
    this.cancelPress();
    this.longPressed = false;
    if (!key || key.closest(".kb-popup")) return;
    const value = key.dataset.key;
    if (value.length !== 1 || variants(value).length < 2) return;
    this.pressTimer = setTimeout(() => {
      this.longPressed = true;
      this.openVariants(value);
    }, LONG_PRESS_MS);
  }

  cancelPress() {
    clearTimeout(this.pressTimer);
    this.pressTimer = null;
  }

  openVariants(letter) {
    setChildren(this.popup, variants(letter).map((v) => this.key(v, v)));
    this.popup.hidden = false;
  }

  closeVariants() {
    this.popup.hidden = true;
    setChildren(this.popup, []);
  }

  click(event) {
    const key = event.target.closest(".kb-key");
    if (!key) return;
    const inPopup = Boolean(key.closest(".kb-popup"));
    if (this.longPressed && !inPopup) {
      this.longPressed = false; // the end of the long press that opened the popup
      return;
    }
    if (inPopup || !this.popup.hidden) this.closeVariants();
    this.press(key.dataset.key);
  }

  /** One key, as if tapped (tests and the pages' own buttons use it too). */
  press(value) {
    const field = this.target;
    if (!field) return;
    if (value === "done") {
      if (this.onDone) this.onDone();
      return;
    }
    field.focus({ preventScroll: true });
    if (value === "delete") this.erase(field);
    else if (value === "clear") field.value = "";
    else if (value.startsWith("tone:")) this.tone(field, TONES[value.slice(5)]);
    else this.insert(field, value);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  insert(field, text) {
    const max = field.maxLength > 0 ? field.maxLength : Infinity;
    if (field.value.length + text.length > max) return;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    field.setRangeText(text, start, end, "end");
  }

  erase(field) {
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    if (start !== end) field.setRangeText("", start, end, "end");
    else if (start > 0) {
      const before = Array.from(field.value.slice(0, start));
      before.pop(); // a whole letter, even a precomposed or astral one
      field.setRangeText("", before.join("").length, start, "end");
    }
  }

  tone(field, mark) {
    const caret = field.selectionEnd ?? field.value.length;
    const before = field.value.slice(0, caret);
    const toned = applyTone(before, mark);
    if (toned === before) return;
    field.setRangeText(toned, 0, caret, "end");
  }
}
