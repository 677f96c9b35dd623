// Idle reset for every kiosk page: after `idleMs` without a touch the page shows a
// countdown ("Màn hình sẽ trở về trang đầu sau 10 giây"), and when it reaches 0 calls
// `onReset` (the start screen, every field emptied). A touch anywhere, the countdown's own
// button included, starts the wait again.
//
//   const idle = new IdleReset({ idleMs, warnMs: 10000, onReset: () => location.replace(home) });
//   idle.pause() / idle.resume(): no reset while the page itself is busy or at its start.

import { byId, setText } from "/assets/js/lib/dom.js";
import { t } from "/assets/js/lib/labels.js";

const TICK_MS = 250;

export class IdleReset {
  constructor({ idleMs, warnMs = 10000, onReset }) {
    this.idleMs = idleMs;
    this.warnMs = Math.min(warnMs, Math.max(1000, idleMs / 2));
    this.onReset = onReset;
    this.lastTouch = performance.now();
    this.paused = false;
    this.overlay = byId("idle");
    this.count = byId("idle-count");
    for (const name of ["pointerdown", "touchstart", "keydown", "input"]) {
      document.addEventListener(name, () => this.touch(), { passive: true, capture: true });
    }
    byId("idle-stay").addEventListener("click", () => this.touch());
    this.timer = setInterval(() => this.check(), TICK_MS);
  }

  touch() {
    this.lastTouch = performance.now();
    if (!this.overlay.hidden) this.overlay.hidden = true;
  }

  pause() {
    this.paused = true;
    this.overlay.hidden = true;
  }

  resume() {
    this.paused = false;
    this.touch();
  }

  /** Seconds left before the reset (tests read it). */
  remaining() {
    return Math.max(0, (this.idleMs - (performance.now() - this.lastTouch)) / 1000);
  }

  check() {
    if (this.paused) return;
    const left = this.remaining();
    if (left <= 0) {
      this.overlay.hidden = true;
      this.lastTouch = performance.now();
      this.onReset();
      return;
    }
    if (left * 1000 <= this.warnMs) {
      setText(this.count, t("kiosk.idle", { n: Math.ceil(left) }));
      this.overlay.hidden = false;
    }
  }
}
