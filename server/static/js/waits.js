// Live waits page: "use my position" asks the browser for the citizen's position, rounds
// it to about 1 km (two decimals) before it leaves the phone, and lists the centres near
// it from /api/v1/public/waits/near, ranked by travel + wait. Without this module the page
// still lists the centres near the chosen centre.

import { get } from "/assets/js/lib/api.js";
import { byId, el, setChildren } from "/assets/js/lib/dom.js";

const root = byId("waits");
const button = byId("use-position");
const status = byId("near-status");
const list = byId("near");

function pair(vi, en) {
  return [vi, el("span", { class: "en", text: en })];
}

function row(r) {
  const params = new URLSearchParams({ centre: r.centre.id });
  if (root.dataset.field) params.set("field", root.dataset.field);
  return el(
    "li",
    { class: "p-item", "data-centre-id": r.centre.id },
    el("a", { class: "p-name", href: `/thoi-gian-cho?${params}`, text: `${r.centre.name} ${r.centre.subtitle}` }),
    el(
      "div",
      { class: "p-meta" },
      `${r.distance_km.toFixed(1)} km · ${r.waiting} người chờ · `,
      pair(r.estimate.text, r.estimate.text_en),
    ),
  );
}

async function showNear(position) {
  const params = new URLSearchParams({
    lat: position.coords.latitude.toFixed(2),
    lon: position.coords.longitude.toFixed(2),
  });
  if (root.dataset.field) params.set("field", root.dataset.field);
  try {
    const answer = await get(`public/waits/near?${params}`);
    setChildren(status, pair("Tính từ vị trí của bạn (khoảng 1 km).", "From your position (to about 1 km)."));
    setChildren(list, answer.centres.map(row));
  } catch (err) {
    setChildren(status, pair(err.message, err.messageEn || ""));
  }
}

if ("geolocation" in navigator) {
  button.hidden = false;
  button.addEventListener("click", () => {
    setChildren(status, pair("Đang lấy vị trí…", "Finding your position…"));
    navigator.geolocation.getCurrentPosition(showNear, () => {
      setChildren(status, pair("Không lấy được vị trí: hãy chọn một trung tâm.", "No position: choose a centre instead."));
    }, { maximumAge: 300000, timeout: 10000 });
  });
}
