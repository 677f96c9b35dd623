// The public feedback form /phan-anh (phản ánh, kiến nghị): contact fields appear only after
// the citizen ticks consent, and are sent only then (the server also drops them without it).

import { api } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";

const form = byId("feedback-form");

function about() {
  const checked = form.querySelector("input[name=about]:checked");
  return checked ? checked.value : "other";
}

function syncAbout() {
  byId("about-staff").hidden = about() !== "staff";
  byId("about-procedure").hidden = about() === "staff";
}

function fail(message) {
  setText(byId("error"), message);
  byId("error").hidden = false;
}

function dmy(iso) {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

form.addEventListener("change", (event) => {
  if (event.target.name === "about") syncAbout();
  if (event.target.id === "consent") byId("contact").hidden = !event.target.checked;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const content = byId("content").value.trim();
  if (content.length < 5) {
    fail("Vui lòng ghi nội dung phản ánh (ít nhất 5 ký tự).");
    return;
  }
  const body = { about: about(), content, source: "web", centre_id: Number(form.dataset.centreId), consent: byId("consent").checked };
  if (about() !== "staff" && byId("procedure").value) body.procedure_id = Number(byId("procedure").value);
  if (about() === "staff") {
    if (byId("counter").value) body.counter_id = Number(byId("counter").value);
    body.staff_description = byId("staff_description").value.trim();
  }
  if (body.consent) {
    body.contact = {};
    for (const key of ["name", "phone", "email"]) {
      const value = byId(`contact_${key}`).value.trim();
      if (value) body.contact[key] = value;
    }
  }
  byId("submit").disabled = true;
  byId("error").hidden = true;
  try {
    const answer = await api("POST", "feedback", { body });
    setText(byId("reference"), answer.reference);
    setText(byId("due"), dmy(answer.due_date));
    setText(
      byId("done-contact"),
      answer.contact_stored
        ? "Trung tâm sẽ liên hệ với quý khách theo thông tin đã cung cấp."
        : "Quý khách không để lại thông tin liên hệ; vui lòng giữ mã phản ánh để hỏi kết quả.",
    );
    form.hidden = true;
    byId("done").hidden = false;
  } catch (error) {
    fail(error.message);
  } finally {
    byId("submit").disabled = false;
  }
});

byId("again").addEventListener("click", () => {
  form.reset();
  syncAbout();
  byId("contact").hidden = true;
  form.hidden = false;
  byId("done").hidden = true;
});
syncAbout();
