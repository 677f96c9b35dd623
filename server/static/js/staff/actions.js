// Behaviour the supervisor and admin pages declare in markup (the CSP forbids inline
// handlers such as onchange= / onsubmit=):
// - <select data-navigate="centre"> reloads the page for the chosen centre;
// - <form data-confirm="Question?"> asks before submitting.

document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.matches("select[data-navigate]")) return;
  const params = new URLSearchParams(location.search);
  params.set(select.dataset.navigate, select.value);
  location.search = `?${params}`;
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : null;
  if (question && !window.confirm(question)) event.preventDefault();
});
