// Stored metrics samples for a time range, from `metrics:history` (docs/socket-events.md).
//
// `metrics:history` answers the newest `limit` samples of a range, so one request cannot cover a
// week of samples taken every 2 s. SampleHistory therefore works in one of two modes per range:
// - "full": the range holds fewer than LIMIT samples: one request loads them all, and each
//   refresh only asks for what is newer than the last one held (older ones fall out of the range);
// - "sliced": the range holds more: it is cut into about SLICES windows aligned to the clock, and
//   the newest sample of each window is drawn (one `limit: 1` request per window, a few at a time).
//   Windows that ended are cached, so a refresh asks only for the current one and any new ones.
// load(since, until) -> Promise<Sample[]> oldest first. reset() forgets everything (range change).

export const LIMIT = 2000;
export const SLICES = 240;
const FULL_MAX = 2 * LIMIT;
const PARALLEL = 24;

export class SampleHistory {
  constructor(request) {
    this.request = request;
    this.reset();
  }

  reset() {
    this.mode = null;
    this.samples = [];
    this.slices = new Map();
    this.sliceMs = 0;
  }

  async load(since, until) {
    if (this.mode !== "sliced") {
      const samples = await this._loadFull(since, until);
      if (samples) return samples;
      this.mode = "sliced";
    }
    return this._loadSliced(since, until);
  }

  /** Samples of the range, or null when it holds too many for "full" mode. */
  async _loadFull(since, until) {
    const newest = this.samples.at(-1)?.timestamp;
    const from = this.mode === "full" && newest !== undefined ? Math.max(since, newest + 1) : since;
    const { samples = [] } = await this.request("metrics:history", { since: from, until, limit: LIMIT });
    if (samples.length >= LIMIT) return null;
    const kept = from === since ? [] : this.samples.filter((s) => s.timestamp >= since);
    const merged = [...kept, ...samples];
    if (merged.length > FULL_MAX) return null;
    this.mode = "full";
    this.samples = merged;
    return merged;
  }

  async _loadSliced(since, until) {
    const sliceMs = Math.max(1000, Math.ceil((until - since) / SLICES / 1000) * 1000);
    if (sliceMs !== this.sliceMs) {
      this.sliceMs = sliceMs;
      this.slices.clear();
    }
    const first = Math.floor(since / sliceMs) * sliceMs;
    for (const start of this.slices.keys()) if (start < first) this.slices.delete(start);
    const todo = [];
    for (let start = first; start <= until; start += sliceMs) {
      // A window that was still open when asked is asked again on the next refresh.
      if (!this.slices.get(start)?.final) todo.push(start);
    }
    for (let i = 0; i < todo.length; i += PARALLEL) {
      await Promise.all(todo.slice(i, i + PARALLEL).map(async (start) => {
        const { samples = [] } = await this.request("metrics:history", {
          since: Math.max(start, since), until: Math.min(start + sliceMs - 1, until), limit: 1,
        });
        this.slices.set(start, { sample: samples[0] || null, final: start + sliceMs <= until });
      }));
    }
    return [...this.slices.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, slice]) => slice.sample)
      .filter((sample) => sample && sample.timestamp >= since && sample.timestamp <= until);
  }
}
