// Spoken announcements that keep pace with the hall (docs/display.md, "How a call is said").
//
// One queue per page (one speaker channel per zone), oldest call first. The policy:
// - A call begins within `deadlineMs` (8 s) of being made, or it is not said at all: it
//   stays on the screen and in "Vừa gọi" (and the counter can recall it).
// - A call that finds the line idle gets the chime and the full phrase; while other calls
//   wait, the compact phrase ("Số 1023, quầy 3", no chime, clips joined tight).
// - The full phrase is said again only if no call is waiting when it ends, and a call
//   that comes in meanwhile cuts that repeat at the end of the word being said.
// - A counter that calls again has moved on: its earlier call is dropped if still waiting,
//   or cut at the end of the word if being said; so is a call whose ticket is no longer
//   called (the citizen came: started, finished…).
// - `onSpeak(segment)` fires as each segment starts: the TV highlights exactly the call
//   being said. Muted, the same timeline runs silently, so the highlight keeps its pace.
//
// What to say comes from GET /api/v1/announcements/preview (the centre's voice settings):
// the chime, the phrase, the compact phrase, each a list of clips from /display/clips/.

import { api } from "/assets/js/lib/api.js";
import { epochNow, sleep } from "/assets/js/lib/dom.js";
import { Voice } from "./voice.js";

export const POLICY = Object.freeze({
  deadlineMs: 8000, // a call not begun by then is shown only
  marginMs: 300, // … begun this much before it at the latest (clock skew, audio start-up)
  idleMs: 1000, // silence before a call that earns the chime
  gapMs: 250, // between two calls said back to back
  overlapS: 0.07, // compact form: each word's trailing silence overlapped by this much
  failedMs: 3000, // a call whose clips cannot be had holds the panel this long, silently
});
const DECIDE_BEFORE_END_MS = 120; // the phrase is chosen this long before the chime ends
const CLIP_TTL_MS = 10 * 60 * 1000; // re-fetch a clip after this (a recorded one may change)
const LOG_SIZE = 500;

export class Announcer {
  /**
   * centreId: for the preview and the clips. onSpeak(segment): a segment starts;
   * onChange(): anything a status line shows changed. skewMs(): server clock minus ours,
   * to read a call's time of making. deadlineMs: 0 = no deadline.
   */
  constructor({ centreId, muted = false, onSpeak = () => {}, onChange = () => {}, skewMs = () => 0, deadlineMs = POLICY.deadlineMs }) {
    this.centreId = centreId;
    this.muted = muted;
    this.onSpeak = onSpeak;
    this.onChange = onChange;
    this.skewMs = skewMs;
    this.deadlineMs = deadlineMs;
    this.voice = new Voice();
    this.queue = []; // calls waiting, oldest first
    this.current = null; // the segment being said: {item, kind, playback, …}
    this.log = []; // segments said (audible or not), oldest first
    this.skipped = []; // calls not said: superseded, late
    this.seen = new Set(); // calls already queued (a snapshot and an event may bring one twice)
    this.buffers = new Map(); // clip name -> {promise, at}
    this.lastEndedAt = 0;
    this.running = false;
    this.next = null; // the call taken from the queue and not yet begun
  }

  get blocked() {
    return this.voice.blocked;
  }

  /** Start sound if the browser allows it (a click on "bật âm thanh" always does). */
  async unlock() {
    await this.voice.resume();
    this.onChange();
  }

  setMuted(muted) {
    this.muted = muted;
    if (!muted) this.unlock();
    this.onChange();
  }

  /** Queue a call (from ticket.called / ticket.recalled, or one missed while away). */
  enqueue(call) {
    const key = `${call.ticket_id}|${call.at}|${call.recall ? 1 : 0}`;
    if (this.seen.has(key)) return null;
    this.seen.add(key);
    if (this.seen.size > LOG_SIZE) this.seen.delete(this.seen.values().next().value);
    const queuedAt = epochNow();
    const made = Date.parse(call.at) - this.skewMs();
    const item = {
      key,
      call,
      number: call.number,
      counter: call.counter_number,
      recall: Boolean(call.recall),
      ticketId: call.ticket_id,
      madeAt: Number.isNaN(made) ? queuedAt : Math.min(made, queuedAt),
      queuedAt,
      status: "queued",
    };
    // The counter has moved on: its earlier call must not send anyone there now.
    for (const queued of this.queue.filter((q) => q.counter === item.counter)) this.skip(queued, "superseded");
    this.queue = this.queue.filter((q) => q.counter !== item.counter);
    if (this.next && this.next.counter === item.counter) this.next.dropped = "superseded";
    const now = this.current;
    if (now && (now.kind === "repeat" || now.item.counter === item.counter)) this.cut(now);
    item.ready = this.prepare(item);
    item.ready.catch(() => {}); // handled when its turn comes
    this.queue.push(item);
    this.onChange();
    this.pump();
    return item;
  }

  /**
   * The ticket is no longer called (started, finished, no-show, requeued, transferred): the
   * citizen has come, or the counter has moved on. Drop its waiting call; cut its call
   * being said at the end of the word.
   */
  retract(ticketId) {
    for (const queued of this.queue.filter((q) => q.ticketId === ticketId)) this.skip(queued, "answered");
    this.queue = this.queue.filter((q) => q.ticketId !== ticketId);
    if (this.next && this.next.ticketId === ticketId) this.next.dropped = "answered";
    const now = this.current;
    if (now && now.item.ticketId === ticketId) this.cut(now);
    this.onChange();
  }

  /** End a segment at the end of the word being said; what was to follow is not said. */
  cut(segment) {
    segment.cancelled = true;
    if (segment.playback) segment.playback.cut();
  }

  skip(item, status) {
    item.status = status;
    item.skippedAt = epochNow();
    this.skipped.push(item);
    if (this.skipped.length > LOG_SIZE) this.skipped.shift();
  }

  /** The call being said now (null between calls). */
  playing() {
    return this.current ? this.current.item : null;
  }

  waiting() {
    return this.queue.length;
  }

  // --- preparing: the preview, then every clip decoded --------------------------------------

  async prepare(item) {
    const query = new URLSearchParams({ number: item.number, counter: String(item.counter), centre_id: String(this.centreId) });
    let preview = null;
    for (let attempt = 0; attempt < 3 && !preview; attempt++) {
      try {
        preview = await api("GET", `announcements/preview?${query}`, { timeoutMs: 5000 });
      } catch (err) {
        if (err.kind === "client") throw err; // the server said no; asking again will not help
        await sleep(500 * (attempt + 1));
      }
    }
    if (!preview) throw new Error("preview unavailable");
    const names = [preview.chime, preview.pause, ...preview.phrase, ...preview.compact.clips];
    const decoded = new Map(await Promise.all([...new Set(names)].map(async (n) => [n, await this.clip(n)])));
    const pick = (list) => list.map((n) => decoded.get(n));
    item.preview = preview;
    item.clips = {
      chime: decoded.get(preview.chime),
      pause: decoded.get(preview.pause),
      phrase: pick(preview.phrase),
      compact: pick(preview.compact.clips),
      repeat: preview.repeat,
    };
    item.missing = names.filter((n) => !decoded.get(n));
  }

  /** A decoded clip, cached; null if it cannot be had (the call is said without it). */
  clip(name) {
    const cached = this.buffers.get(name);
    if (cached && performance.now() - cached.at < CLIP_TTL_MS) return cached.promise;
    const url = `/display/clips/${name}.wav?centre=${encodeURIComponent(this.centreId)}`;
    const promise = (async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const response = await fetch(url);
          if (response.status === 404) break;
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return await this.voice.decode(await response.arrayBuffer());
        } catch (err) {
          console.warn(`clip ${name}: ${err}`);
          await sleep(500 * (attempt + 1));
        }
      }
      this.buffers.delete(name);
      return null;
    })();
    this.buffers.set(name, { promise, at: performance.now() });
    return promise;
  }

  // --- saying: one segment at a time ----------------------------------------------------------

  async pump() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const item = this.queue.shift();
        this.next = item; // out of the queue, being got ready: it can still be dropped
        this.onChange();
        await this.sayCall(item);
        this.next = null;
      }
    } finally {
      this.running = false;
      this.onChange();
    }
  }

  /** Milliseconds left before `item` is too late to begin (Infinity without a deadline). */
  timeLeft(item) {
    return this.deadlineMs > 0 ? item.madeAt + this.deadlineMs - epochNow() : Infinity;
  }

  async sayCall(item) {
    let failed = false;
    try {
      await Promise.race([item.ready, sleep(Math.max(0, Math.min(this.timeLeft(item), 15000)))]);
      if (!item.clips) throw new Error("clips not ready in time");
    } catch (err) {
      console.warn(`announcement ${item.number}: ${err}`);
      failed = true;
    }
    if (this.muted === false && !this.voice.blocked) await this.voice.resume();
    const silent = this.muted || this.voice.blocked;
    if (item.dropped) return this.skip(item, item.dropped);
    if (this.timeLeft(item) <= POLICY.marginMs) return this.skip(item, "late");
    if (failed) {
      item.status = "failed";
      return this.holdSilently(item);
    }
    // The chime first (after silence), then the phrase chosen when the chime ends: calls
    // that came in meanwhile make it the compact one.
    const chime = epochNow() - this.lastEndedAt >= POLICY.idleMs;
    item.status = "said";
    let startAt = null;
    let segment = null;
    if (chime) {
      const ding = this.voice.play([item.clips.chime], { silent });
      segment = this.begin(item, "call", ding, { chime });
      // Decide just before the chime ends, and start the phrase right where it ends.
      await Promise.race([ding.done, sleep(ding.endsAt - DECIDE_BEFORE_END_MS - epochNow())]);
      if (segment.cancelled) return this.end(segment, await ding.done);
      startAt = ding.endsAt;
    }
    const form = this.queue.length ? "compact" : "full";
    const body = form === "full" ? item.clips.phrase : item.clips.compact;
    const playback = this.voice.play(body, { silent, startAt, overlapS: form === "compact" ? POLICY.overlapS : 0 });
    if (segment) this.continue(segment, playback);
    else segment = this.begin(item, "call", playback, { chime });
    segment.form = form;
    segment.names = [...(chime ? [item.preview.chime] : []), ...(form === "full" ? item.preview.phrase : item.preview.compact.clips)];
    segment.numberAt = playback.offsets[1] ?? playback.startedAt; // after "Xin mời…" / "Số"
    const cut = this.end(segment, await playback.done) || segment.cancelled;
    // Said again only when the line is idle, and cut as soon as a call comes in.
    if (!cut && form === "full" && item.clips.repeat > 1 && !this.queue.length) {
      const again = this.begin(item, "repeat", this.voice.play([item.clips.pause, ...item.clips.phrase], { silent }), { form });
      again.names = [item.preview.pause, ...item.preview.phrase];
      this.end(again, await again.playback.done);
    }
    if (this.queue.length) await sleep(POLICY.gapMs);
  }

  /** A call silently holds the panel when its clips cannot be had. */
  async holdSilently(item) {
    const segment = this.begin(item, "call", this.voice.playSilently([POLICY.failedMs / 1000]), {});
    segment.names = [];
    this.end(segment, await segment.playback.done);
  }

  /** A segment starts (the screen highlights its call); `playback` may follow later. */
  begin(item, kind, playback, { chime = false, form = null }) {
    const segment = {
      item,
      kind,
      playback: null,
      key: item.key,
      number: item.number,
      counter: item.counter,
      recall: item.recall,
      form,
      chime,
      audible: false,
      madeAt: item.madeAt,
      startedAt: null,
      numberAt: null,
      duration: 0,
      endedAt: null,
      status: "playing",
    };
    this.current = segment;
    this.log.push(segment);
    if (this.log.length > LOG_SIZE) this.log.shift();
    if (playback) this.continue(segment, playback);
    else segment.startedAt = epochNow();
    if (kind === "call") segment.lagMs = segment.startedAt - item.madeAt;
    this.onSpeak(segment);
    this.onChange();
    return segment;
  }

  continue(segment, playback) {
    segment.playback = playback;
    if (segment.startedAt === null) segment.startedAt = playback.startedAt;
    segment.audible = segment.audible || Boolean(playback.audible);
    segment.duration = (playback.endsAt - segment.startedAt) / 1000;
  }

  /** The segment is over; true if it was cut short. */
  end(segment, status) {
    segment.status = segment.cancelled ? "cut" : status;
    segment.endedAt = epochNow();
    this.lastEndedAt = segment.endedAt;
    this.current = null;
    this.onChange();
    return segment.status === "cut";
  }
}
