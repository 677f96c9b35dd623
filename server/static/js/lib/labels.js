// The page's labels, written once on the server (server/labels/) and rendered into the page
// as a JSON block by labels_script(): Vietnamese first, English second, "{name}" placeholders.
//
//   import { t, en } from "/assets/js/lib/labels.js";
//   t("display.next", { numbers: "1023, 1024" })   // "Tiếp theo: 1023, 1024"

import { jsonBlock } from "./dom.js";

const SCRIPT_ID = "tthcc-labels";
let table = null;
const warned = new Set();

function labels() {
  if (table === null) table = jsonBlock(SCRIPT_ID, {}) || {};
  return table;
}

function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

function lookup(key, lang, values) {
  const entry = labels()[key];
  if (!entry) {
    if (!warned.has(key)) {
      warned.add(key);
      console.error(`label ${key} is not on this page (labels_script groups?)`);
    }
    return key; // visible, and a test notices
  }
  return fill(entry[lang], values);
}

/** The Vietnamese text of a label. */
export const t = (key, values) => lookup(key, "vi", values);

/** The English text of a label. */
export const en = (key, values) => lookup(key, "en", values);

/** Both: {vi, en}. */
export const both = (key, values) => ({ vi: t(key, values), en: en(key, values) });

/** Whether the page has this label. */
export const has = (key) => Object.hasOwn(labels(), key);

/** A list label ("a|b|c") as an array, e.g. display.weekdays. */
export const list = (key, lang = "vi") => lookup(key, lang).split("|");
