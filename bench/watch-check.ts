// Pure: what the watch bench concludes from the driver's log of acknowledged writes and the commits the watch
// made (each seen at a time, with every churned object's recorded value): consistency of each window's commit,
// change-to-commit latency, lost changes, and how RSS moved over time.

/** One acknowledged write: object `name` got value `seq` (unique, increasing), sent at `sentMs`, acknowledged at `ackMs`. */
export interface Write { name: string; seq: number; sentMs: number; ackMs: number }
/** A commit as the driver saw it appear, with the value each churned object holds in it (undefined: no file). */
export interface SeenCommit { sha: string; atMs: number; values: Map<string, number | undefined> }
export interface Mismatch { sha: string; name: string; recorded: number | undefined; reason: string }

/**
 * Every commit after the first (the initial sync, at index 0) must record for each object a value the object
 * held at some instant between the previous commit's appearance and its own: value `k` held from the moment
 * its write was sent (the server may apply it before it answers) until the next write of the object was
 * acknowledged. `initial` is each object's value before any write (seq 0 or whatever it was created with).
 */
export function checkWindows(initial: Map<string, number>, writes: Write[], commits: SeenCommit[]): Mismatch[] {
  const byName = historyByName(initial, writes);
  const out: Mismatch[] = [];
  for (let j = 1; j < commits.length; j++) {
    const from = commits[j - 1].atMs;
    const to = commits[j].atMs;
    for (const [name, history] of byName) {
      const recorded = commits[j].values.get(name);
      const i = history.findIndex((h) => h.seq === recorded);
      if (i < 0) {
        out.push({ sha: commits[j].sha, name, recorded, reason: recorded === undefined ? 'missing' : 'a value never written' });
        continue;
      }
      const heldFrom = history[i].sentMs;
      const heldUntil = i + 1 < history.length ? history[i + 1].ackMs : Infinity;
      if (heldFrom > to) out.push({ sha: commits[j].sha, name, recorded, reason: 'written only after the commit appeared' });
      else if (heldUntil < from) out.push({ sha: commits[j].sha, name, recorded, reason: `stale: replaced ${Math.round(from - heldUntil)} ms before the window began` });
    }
    for (const name of commits[j].values.keys()) {
      if (!byName.has(name)) out.push({ sha: commits[j].sha, name, recorded: commits[j].values.get(name), reason: 'an object never created' });
    }
  }
  return out;
}

/**
 * Each write's change-to-commit latency: from its acknowledgement to the first commit (after the initial one)
 * recording that value or a later one of the same object (a write replaced within a window is committed by its
 * successor). Writes no commit ever reached are lost.
 */
export function latencies(writes: Write[], commits: SeenCommit[]): { ms: number[]; lost: Write[] } {
  const ms: number[] = [];
  const lost: Write[] = [];
  for (const w of writes) {
    const c = commits.find((c, j) => j > 0 && (c.values.get(w.name) ?? -1) >= w.seq);
    if (c) ms.push(c.atMs - w.ackMs);
    else lost.push(w);
  }
  return { ms, lost };
}

/** The value at quantile `q` (0-1) by nearest rank. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(points: Array<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? NaN : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

function historyByName(initial: Map<string, number>, writes: Write[]) {
  const byName = new Map<string, Array<{ seq: number; sentMs: number; ackMs: number }>>();
  for (const [name, seq] of initial) byName.set(name, [{ seq, sentMs: -Infinity, ackMs: -Infinity }]);
  for (const w of [...writes].sort((a, b) => a.seq - b.seq)) {
    const h = byName.get(w.name) ?? byName.set(w.name, []).get(w.name)!;
    h.push({ seq: w.seq, sentMs: w.sentMs, ackMs: w.ackMs });
  }
  return byName;
}
