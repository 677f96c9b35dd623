// DOM helpers for every page: build nodes with text (never HTML strings), escape the rare
// string that must be HTML, find elements. No page writes its own copy of these.

/** The element with this id (throws if the page lacks it: a template and script out of step). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/**
 * Make an element: el("li", {class: "row", "data-id": 3, onclick: fn}, "text", child, …).
 * Attributes: `class`, `text` (textContent), `style` (an object of properties, custom
 * properties included), `dataset` (an object), `on<event>` (a listener), `true` for a bare
 * attribute; null, undefined and false are left out. Children: nodes, strings and numbers
 * (as text), arrays of them; null, undefined and false are skipped.
 */
export function el(tag, attrs = null, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "style") setStyle(node, value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function setStyle(node, style) {
  for (const [name, value] of Object.entries(style)) {
    if (value === null || value === undefined) node.style.removeProperty(name);
    else node.style.setProperty(name, String(value));
  }
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replace a node's children (same child rules as el()). */
export function setChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Set textContent only when it changes (no needless layout, no restarted animations). */
export function setText(node, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
  return node;
}

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for HTML (text and attribute values). Prefer el()/setText() to HTML. */
export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (ch) => ENTITIES[ch]);
}

/** Two digits: 7 → "07". */
export const pad2 = (n) => String(n).padStart(2, "0");

/** Read a JSON data block (<script type="application/json" id=…>) rendered by the server. */
export function jsonBlock(id, fallback = null) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent);
  } catch (err) {
    console.error(`#${id}: not JSON: ${err}`);
    return fallback;
  }
}

/** Wall-clock milliseconds with sub-ms precision (same clock as the tests' time.time()). */
export const epochNow = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
