// The centre's wall clock in the browser: the server's time (corrected for a PC whose
// clock is off) in the centre's time zone (not the browser's). Synced from the snapshot's
// server_time ("2026-11-25T08:58:03.120+07:00"), which carries both.

import { pad2 } from "./dom.js";

const VIETNAM_MIN = 7 * 60;

export class CentreClock {
  constructor({ offsetMin = VIETNAM_MIN } = {}) {
    this.skewMs = 0; // server clock minus ours
    this.offsetMin = offsetMin; // the centre's UTC offset
    this.synced = false;
  }

  /** Take the server's clock and the centre's offset from an ISO time with a zone. */
  sync(serverTime) {
    const ms = Date.parse(serverTime);
    if (Number.isNaN(ms)) return false;
    this.skewMs = ms - Date.now();
    const zone = /([+-])(\d\d):?(\d\d)$/.exec(serverTime);
    if (zone) this.offsetMin = (zone[1] === "-" ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
    else if (/Z$/.test(serverTime)) this.offsetMin = 0;
    this.synced = true;
    return true;
  }

  /** The server's epoch milliseconds now. */
  nowMs() {
    return Date.now() + this.skewMs;
  }

  /** The fields of a moment (epoch ms, ISO text or Date; default now) on the centre's clock. */
  parts(when = null) {
    const ms = when === null ? this.nowMs() : when instanceof Date ? when.getTime() : Date.parse(when);
    const d = new Date(ms + this.offsetMin * 60000); // its UTC fields read as centre time
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      weekday: d.getUTCDay(), // 0 Sunday
      hours: d.getUTCHours(),
      minutes: d.getUTCMinutes(),
      seconds: d.getUTCSeconds(),
    };
  }

  /** "08:58" (or "08:58:03" with seconds). */
  time(when = null, { seconds = false } = {}) {
    const p = this.parts(when);
    return `${pad2(p.hours)}:${pad2(p.minutes)}${seconds ? `:${pad2(p.seconds)}` : ""}`;
  }

  /** "25/11/2026". */
  date(when = null) {
    const p = this.parts(when);
    return `${pad2(p.day)}/${pad2(p.month)}/${p.year}`;
  }

  /** "2026-11-25": the centre's working day (for API queries). */
  isoDate(when = null) {
    const p = this.parts(when);
    return `${p.year}-${pad2(p.month)}-${pad2(p.day)}`;
  }
}
