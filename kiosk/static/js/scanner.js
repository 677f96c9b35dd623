// A barcode scanner in keyboard-wedge mode types each code it reads, then Enter. This tells
// such a scan from a person at a keyboard by the time between keys: a scanner sends its
// characters a few milliseconds apart; a person, even a fast typist, 80-200 ms apart.
// A scan is at least `minLength` characters, every one within `maxGapMs` of the previous,
// ended by Enter within `maxGapMs` too. Anything slower is left alone (docs/devices.md).
//
//   new WedgeScanner({ onScan: (text) => … }).start();

export const MAX_GAP_MS = 50;
export const MIN_LENGTH = 6;
const MAX_LENGTH = 1024;

export class WedgeScanner {
  constructor({ onScan, maxGapMs = MAX_GAP_MS, minLength = MIN_LENGTH, target = document }) {
    this.onScan = onScan;
    this.maxGapMs = maxGapMs;
    this.minLength = minLength;
    this.target = target;
    this.chars = [];
    this.last = -Infinity;
    this.keydown = (event) => this.key(event);
    this.keyup = (event) => {
      // A space typed by the scanner must not press a focused button (it does on keyup).
      if (this.inBurst(event.timeStamp) && event.key === " ") event.preventDefault();
    };
  }

  start() {
    this.target.addEventListener("keydown", this.keydown, { capture: true });
    this.target.addEventListener("keyup", this.keyup, { capture: true });
    return this;
  }

  stop() {
    this.target.removeEventListener("keydown", this.keydown, { capture: true });
    this.target.removeEventListener("keyup", this.keyup, { capture: true });
  }

  inBurst(now) {
    return this.chars.length > 0 && now - this.last <= this.maxGapMs;
  }

  key(event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const now = event.timeStamp;
    const fast = this.inBurst(now);
    if (event.key === "Enter") {
      const text = this.chars.join("");
      const isScan = fast && this.chars.length >= this.minLength;
      this.chars = [];
      this.last = -Infinity;
      if (!isScan) return;
      event.preventDefault(); // not a press of whatever button has the focus
      event.stopPropagation();
      this.onScan(text);
      return;
    }
    if (event.key.length !== 1 && !/^\p{L}\p{M}*$/u.test(event.key)) return; // Shift, arrows…
    if (!fast) this.chars = [];
    else if (event.key === " ") event.preventDefault();
    if (this.chars.length < MAX_LENGTH) this.chars.push(event.key);
    this.last = now;
  }
}
