// Playing a call's clips: back to back with the Web Audio API (gapless, sample-exact), or
// silently on timers of the same lengths when the page is muted or the browser blocks
// sound, so a muted TV keeps the same timeline as the speaker page. A playback can be cut
// short at the end of the clip playing (never mid-word).

import { epochNow } from "/assets/js/lib/dom.js";

const START_DELAY_S = 0.05; // schedule slightly ahead so the first clip is not clipped
const STALL_GRACE_MS = 5000; // a dead sound card must not hold the queue

/**
 * One playback: `startedAt` (epoch ms of the first sound), `offsets` (epoch ms each clip
 * starts), `duration` (s), `done` (resolves to "done", "cut" or "timeout"), `cut()`.
 */
class Playback {
  constructor(durations, startedAt) {
    this.durations = durations;
    this.startedAt = startedAt;
    this.offsets = [];
    let at = startedAt;
    for (const d of durations) {
      this.offsets.push(at);
      at += d * 1000;
    }
    this.duration = (at - startedAt) / 1000;
    this.endsAt = at;
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.finished = false;
  }

  finish(status) {
    if (this.finished) return;
    this.finished = true;
    this.endedAt = epochNow();
    this.status = status;
    this.resolve(status);
  }

  /** Index of the clip playing at epoch ms `now` (-1 before the first). */
  clipAt(now) {
    let index = -1;
    for (let i = 0; i < this.offsets.length; i++) if (this.offsets[i] <= now) index = i;
    return index;
  }
}

export class Voice {
  constructor() {
    this.ctx = null;
    this.blocked = false;
  }

  /** The AudioContext (made on first use; decoding works before sound is allowed). */
  context() {
    if (!this.ctx) this.ctx = new AudioContext({ latencyHint: "playback" });
    return this.ctx;
  }

  /** Try to start sound; false if the browser wants a user gesture first. */
  async resume() {
    const ctx = this.context();
    if (ctx.state !== "running") {
      await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 500))]);
    }
    this.blocked = ctx.state !== "running";
    return !this.blocked;
  }

  async decode(arrayBuffer) {
    return this.context().decodeAudioData(arrayBuffer);
  }

  /**
   * Play `buffers` back to back. `overlapS`: start each clip this much before the previous
   * one ends (the compact form trims the clips' trailing silence). `silent`: timers only.
   * `startAt`: epoch ms to start at (to follow another playback without a gap), else now.
   */
  play(buffers, { overlapS = 0, silent = false, startAt = null } = {}) {
    const clips = buffers.filter(Boolean);
    const durations = clips.map((b, i) => (i < clips.length - 1 ? Math.max(0.05, b.duration - overlapS) : b.duration));
    if (silent || !this.ctx || this.ctx.state !== "running") return this.playSilently(durations, startAt);
    const ctx = this.ctx;
    const aheadS = Math.max(START_DELAY_S, startAt === null ? 0 : (startAt - epochNow()) / 1000);
    const first = ctx.currentTime + aheadS;
    const playback = new Playback(durations, epochNow() + aheadS * 1000);
    playback.audible = true;
    let at = first;
    const sources = clips.map((buffer, i) => {
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      source.start(at);
      source.startTime = at;
      at += durations[i];
      return source;
    });
    const guard = setTimeout(() => playback.finish("timeout"), playback.duration * 1000 + STALL_GRACE_MS);
    playback.done.then(() => clearTimeout(guard));
    if (sources.length) sources[sources.length - 1].onended = () => playback.finish("done");
    else playback.finish("done");
    playback.cut = () => {
      // Let the clip playing end; drop the ones not yet started.
      const now = ctx.currentTime;
      let playing = null;
      for (const source of sources) {
        if (source.startTime > now) {
          source.onended = null;
          source.stop();
        } else playing = source;
      }
      if (!playing) return playback.finish("cut");
      const endsIn = playing.startTime + playing.buffer.duration - now;
      setTimeout(() => playback.finish("cut"), Math.max(0, endsIn * 1000));
    };
    return playback;
  }

  playSilently(durations, startAt = null) {
    const playback = new Playback(durations, Math.max(epochNow(), startAt ?? 0));
    playback.audible = false;
    const timer = setTimeout(() => playback.finish("done"), playback.endsAt - epochNow());
    playback.cut = () => {
      clearTimeout(timer);
      const now = epochNow();
      const index = playback.clipAt(now);
      const end = index < 0 ? now : playback.offsets[index] + durations[index] * 1000;
      setTimeout(() => playback.finish("cut"), Math.max(0, end - now));
    };
    return playback;
  }
}
