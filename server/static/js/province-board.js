// The province board: every 20 s, the same page is fetched again and its table and
// totals swapped in, so the server renders the board in one place (no HTML built here).

const root = document.getElementById("province");
const seconds = Number(root?.dataset.refreshSeconds || 20);

async function refresh() {
  try {
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return; // keep what is shown; the next round tries again
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["board", "totals", "updated"]) {
      const fresh = page.getElementById(id);
      const shown = document.getElementById(id);
      if (fresh && shown) shown.replaceWith(document.adoptNode(fresh));
    }
  } catch {
    // network down: the table stays as it was, the time shows how old it is
  }
}

if (root) setInterval(refresh, seconds * 1000);
