// Spoken announcements: one queue, each call said in full, in call order, never cut off.
//
// For each call we ask the server what to say (GET /api/v1/announcements/preview: the
// clip names, per the centre's voice settings), fetch and decode the clips, then play
// them back to back with the Web Audio API (gapless, sample-exact). Preparing happens in
// parallel; playing strictly one call after another.

import { epochNow } from "./hall.js";

const CLIP_TTL_MS = 10 * 60 * 1000; // re-fetch a clip after this (a recorded one may change)
const START_DELAY_S = 0.05; // schedule slightly ahead so the first clip is not clipped

export class Announcer {
  constructor({ centreId, muted = false, onChange = () => {} }) {
    this.centreId = centreId;
    this.muted = muted;
    this.onChange = onChange;
    this.queue = []; // items in call order; the head is being prepared or played
    this.log = []; // started announcements: {number, counter, clips, startedAt, endedAt, ...}
    this.skipped = []; // calls not said: muted, superseded, audio blocked, preview failed
    this.active = null; // the item the queue is working on (preparing or playing)
    this.current = null; // the item playing now
    this.blocked = false;
    this.buffers = new Map(); // clip name -> {promise, at}
    this.ctx = null;
    this.running = false;
  }

  /** The AudioContext, resumed; null if the browser will not play without a gesture. */
  async context() {
    if (!this.ctx) this.ctx = new AudioContext({ latencyHint: "playback" });
    if (this.ctx.state !== "running") {
      await Promise.race([this.ctx.resume(), new Promise((r) => setTimeout(r, 500))]);
    }
    const ok = this.ctx.state === "running";
    if (this.blocked === ok) {
      this.blocked = !ok;
      this.onChange();
    }
    return ok ? this.ctx : null;
  }

  /** A user gesture (the "bật âm thanh" button) lets a normal browser play. */
  async unlock() {
    await this.context();
  }

  setMuted(muted) {
    this.muted = muted;
    if (muted) {
      for (const item of this.queue) if (item !== this.active) this.skip(item, "muted");
      this.queue = this.active ? [this.active] : [];
      if (this.current && this.current.stop) this.current.stop("muted");
    } else {
      this.context(); // unmuting is a click: the moment a browser lets audio start
    }
    this.onChange();
  }

  /** Queue a call (from ticket.called / ticket.recalled). */
  enqueue(call) {
    const item = {
      number: call.number,
      counter: call.counter_number,
      recall: call.recall,
      ticketId: call.ticket_id,
      queuedAt: epochNow(),
      clips: null,
      text: null,
      missing: [],
      startedAt: null,
      endedAt: null,
      status: "queued",
    };
    if (this.muted) {
      this.skip(item, "muted");
      return item;
    }
    // A counter that calls again before its previous call was said has moved on (that
    // ticket is finished): say only the new call. Calls of other counters all stay.
    for (const queued of this.queue) {
      if (queued !== this.active && queued.counter === item.counter) this.skip(queued, "superseded");
    }
    this.queue = this.queue.filter((q) => q === this.active || q.counter !== item.counter);
    item.ready = this.prepare(item);
    item.ready.catch(() => {}); // handled when its turn comes
    this.queue.push(item);
    this.onChange();
    this.pump();
    return item;
  }

  skip(item, why) {
    item.status = why;
    this.skipped.push(item);
  }

  async prepare(item) {
    const params = new URLSearchParams({
      number: item.number,
      counter: String(item.counter),
      centre_id: String(this.centreId),
    });
    const preview = await fetchJson(`/api/v1/announcements/preview?${params}`, 3);
    item.clips = preview.clips;
    item.text = preview.text;
    if (!this.ctx) await this.context(); // decoding works even before audio is allowed
    const ctx = this.ctx;
    const buffers = await Promise.all(preview.clips.map((name) => this.clip(ctx, name)));
    item.buffers = buffers;
    item.missing = preview.clips.filter((_, i) => !buffers[i]);
  }

  /** A decoded clip, cached; null if it cannot be had (the call is said without it). */
  clip(ctx, name) {
    const cached = this.buffers.get(name);
    if (cached && performance.now() - cached.at < CLIP_TTL_MS) return cached.promise;
    const url = `/display/clips/${name}.wav?centre=${encodeURIComponent(this.centreId)}`;
    const promise = (async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const response = await fetch(url);
          if (response.status === 404) break;
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return await ctx.decodeAudioData(await response.arrayBuffer());
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

  async pump() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const item = this.queue[0];
        this.active = item;
        await this.sayOne(item);
        this.queue = this.queue.filter((queued) => queued !== item);
        this.active = null;
        this.current = null;
        this.onChange();
      }
    } finally {
      this.running = false;
    }
  }

  async sayOne(item) {
    if (this.muted) return this.skip(item, "muted");
    try {
      await item.ready;
    } catch (err) {
      console.warn(`announcement ${item.number}: ${err}`);
      return this.skip(item, "failed");
    }
    const ctx = await this.context();
    if (!ctx) return this.skip(item, "blocked");
    if (this.muted) return this.skip(item, "muted");
    await this.play(ctx, item);
  }

  /** Play the item's clips back to back; resolves when the last one has ended. */
  play(ctx, item) {
    const buffers = item.buffers.filter(Boolean);
    let at = ctx.currentTime + START_DELAY_S;
    const first = at;
    const sources = buffers.map((buffer) => {
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      source.start(at);
      at += buffer.duration;
      return source;
    });
    item.duration = at - first;
    item.startedAt = epochNow() + (first - ctx.currentTime) * 1000;
    item.status = "playing";
    this.current = item;
    this.log.push(item);
    this.onChange();
    return new Promise((resolve) => {
      let done = false;
      const finish = (status) => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        item.endedAt = epochNow();
        item.status = status;
        item.stop = () => {};
        resolve();
      };
      item.stop = (why) => {
        for (const source of sources) {
          try {
            source.stop();
          } catch {
            /* not started yet */
          }
        }
        finish(why);
      };
      // If the audio clock stalls (device gone), do not hold the queue forever.
      const guard = setTimeout(() => finish("timeout"), (item.duration + 5) * 1000);
      if (sources.length) sources[sources.length - 1].onended = () => finish("done");
      else finish("done");
    });
  }

  /** The call being said now, for status lines. */
  playing() {
    return this.current && this.current.status === "playing" ? this.current : null;
  }

  waiting() {
    return this.queue.filter((item) => item !== this.current).length;
  }
}

async function fetchJson(url, attempts) {
  let last = null;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const response = await fetch(url);
      if (response.ok) return await response.json();
      last = new Error(`HTTP ${response.status}`);
      if (response.status < 500) break; // the server said no; asking again will not help
    } catch (err) {
      last = err;
    }
    await sleep(700 * (attempt + 1));
  }
  throw last;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
