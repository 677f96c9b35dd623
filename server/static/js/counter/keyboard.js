// Keyboard shortcuts at the counter: F1 or Space call the next citizen, F2 recalls, F3
// starts, F4 finishes (served). They press the button, so a disabled button (a request in
// flight, an action the ticket does not allow) ignores them too.

import { openDialog } from "./dialogs.js";
import { state } from "./state.js";

const SHORTCUTS = { F1: "btn-next", " ": "btn-next", F2: "btn-recall", F3: "btn-start", F4: "btn-finish" };

function onKey(event) {
  if (state.view !== "counter" || openDialog()) return;
  if (event.target.closest && event.target.closest("input, textarea, select")) return;
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  const target = SHORTCUTS[event.key];
  if (!target) return;
  event.preventDefault(); // also stops Space from pressing whichever button has the focus
  if (event.repeat) return;
  const button = document.getElementById(target);
  if (button && !button.disabled) button.click();
}

export function listenToKeys() {
  document.addEventListener("keydown", onKey);
}
