// What the page tells its staff member without blocking the work: the banner (errors,
// confirmations) and the short note when a citizen rated this counter.

import { ApiError } from "/assets/js/lib/api.js";
import { byId, setText } from "/assets/js/lib/dom.js";
import { both, t } from "/assets/js/lib/labels.js";
import { state } from "./state.js";

const INFO_MS = 5000;
const ERROR_MS = 15000;
const RATING_MS = 8000;

let bannerTimer = null;

export function showBanner(vi, en = "", kind = "error") {
  setText(byId("banner-vi"), vi);
  setText(byId("banner-en"), en);
  const banner = byId("banner");
  banner.dataset.kind = kind;
  banner.hidden = false;
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(hideBanner, kind === "info" ? INFO_MS : ERROR_MS);
}

export function hideBanner() {
  clearTimeout(bannerTimer);
  byId("banner").hidden = true;
}

/** A label as the banner's message (`kind`: info, warn or error). */
export function say(key, values = null, kind = "info") {
  const text = both(key, values);
  showBanner(text.vi, text.en, kind);
}

/** An error of an action: the server's own words, or ours for a bug of the page. */
export function report(error) {
  if (error && error.handled) return;
  if (error instanceof ApiError) {
    showBanner(error.message, error.messageEn, "error");
    return;
  }
  console.error(error);
  say("counter.page_error", null, "error");
}

// --- a citizen rated this counter --------------------------------------------------------

const seenRatings = new Set(); // the event may reach us through two rooms
let ratingTimer = null;

export function showRating(payload) {
  const rating = payload && payload.rating;
  if (!rating || state.view !== "counter" || rating.counter_id !== state.counterId) return;
  if (rating.id !== null && rating.id !== undefined) {
    if (seenRatings.has(rating.id)) return;
    seenRatings.add(rating.id);
  }
  const level = Number(rating.level);
  const label = rating.label || t("counter.rating_level", { level: rating.level });
  setText(byId("rating-notice-text"), t("counter.rated", { label }));
  let about = "";
  if (rating.ticket_number) about = t("counter.rated_ticket", { number: rating.ticket_number });
  else if (rating.attached === false) about = t("counter.rated_counter");
  if (payload.replaces_id) about += t("counter.rated_again");
  setText(byId("rating-notice-detail"), about);
  const notice = byId("rating-notice");
  notice.dataset.tone = level >= 4 ? "high" : level === 3 ? "mid" : "low";
  notice.dataset.ratingId = rating.id ?? "";
  notice.hidden = false;
  clearTimeout(ratingTimer);
  ratingTimer = setTimeout(hideRating, RATING_MS);
}

export function hideRating() {
  clearTimeout(ratingTimer);
  byId("rating-notice").hidden = true;
}
