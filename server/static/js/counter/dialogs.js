// The page's questions: one modal <dialog> at a time, answered with the keyboard or a click.
//
//   const answer = await ask(byId("dlg-resolve"));   // a button's data-value, or null
//
// A button with data-value answers with it; a form's submit answers "ok" (the caller reads
// its fields); Escape, a [data-close] button or closing the dialog answer null. A button's
// data-key (e.g. "1") is its keyboard shortcut while the dialog is open. Focus starts on
// the dialog's [autofocus] element, else on the dialog itself (never on an answer: a second
// press of the key that opened the dialog must not answer it).

/** The dialog open now, if any. */
export const openDialog = () => document.querySelector("dialog[open]");

/** Close every dialog (its question answers null). */
export function closeDialogs() {
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}

/** Show `dialog` and resolve to the answer (null at once when another dialog is open). */
export function ask(dialog) {
  if (openDialog()) return Promise.resolve(null);
  return new Promise((resolve) => {
    let answered = false;
    const answer = (value) => {
      if (answered) return;
      answered = true;
      dialog.removeEventListener("click", onClick);
      dialog.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("cancel", onCancel);
      dialog.removeEventListener("keydown", onKey);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onClick = (event) => {
      const button = event.target.closest("button");
      if (!button || !dialog.contains(button) || button.disabled) return;
      if (button.dataset.value !== undefined) {
        event.preventDefault();
        answer(button.dataset.value);
      } else if (button.hasAttribute("data-close")) {
        event.preventDefault();
        answer(null);
      }
    };
    const onSubmit = (event) => {
      event.preventDefault();
      answer("ok");
    };
    const onCancel = (event) => {
      event.preventDefault();
      answer(null);
    };
    const onKey = (event) => {
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      if (event.target.closest("input, textarea, select")) return;
      if (event.key === "F1" || event.key === "F2" || event.key === "F3" || event.key === "F4") {
        event.preventDefault(); // the page's shortcuts (and the browser's help) wait
        return;
      }
      const button = dialog.querySelector(`button[data-key="${CSS.escape(event.key)}"]`);
      if (!button) return;
      event.preventDefault();
      if (!event.repeat && !button.disabled) button.click();
    };
    const onClose = () => answer(null);
    dialog.addEventListener("click", onClick);
    dialog.addEventListener("submit", onSubmit);
    dialog.addEventListener("cancel", onCancel);
    dialog.addEventListener("keydown", onKey);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    const first = dialog.querySelector("[autofocus]");
    if (first) first.focus();
    else dialog.focus();
  });
}
