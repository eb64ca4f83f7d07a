import fs from 'node:fs/promises';
import path from 'node:path';
import type { EventBus, FailoverEvent, RequestRecord } from '../events.js';
import { ensureDir, FILE_MODE } from '../files.js';
import { statsDir, type Paths } from '../paths.js';

/**
 * One line of `data/stats/YYYY-MM-DD.jsonl`. Requests carry counts and timings
 * only — never prompt or output text (issue 6). Failover lines are the
 * timeline the popover shows; aggregates count failovers from request hops,
 * so the two are never added together.
 */
export type StatLine = ({ kind: 'request' } & RequestRecord) | ({ kind: 'failover' } & FailoverEvent);

export interface StatsClock {
  now(): number;
}

export interface StatsOptions {
  clock?: StatsClock;
  /** Days of files to keep; read on every prune so a settings change applies. @default 90 */
  retentionDays?: () => number;
  /** @default 1000 */
  flushMs?: number;
  /** Flush at once when this many lines are waiting. @default 256 */
  batch?: number;
}

const DAY_MS = 86_400_000;
/** If the disk refuses writes, keep at most this many lines rather than grow without bound. */
const MAX_PENDING = 20_000;
const FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** Files are named for the UTC day of the record, so a time-zone change never splits or merges a file. */
export const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
export const statsFile = (paths: Paths, day: string) => path.join(statsDir(paths), `${day}.jsonl`);

/** A line waiting to be appended: its file's day and its JSON. */
interface PendingLine {
  day: string;
  json: string;
}

/**
 * Writes statistics off the hot path: a `request` event costs one line of
 * JSON pushed on an array; lines are appended in batches every second (or
 * every `batch` lines) and on `stop()`. A line waits as its text, not as the
 * record: records held for up to a second outlive young collections, and on
 * a busy gateway their objects were most of what reached V8's old generation.
 */
export class StatsRecorder {
  private pending: PendingLine[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private prunedDay?: string;
  private readonly clock: StatsClock;
  private readonly unsubscribe: () => void;

  constructor(
    readonly paths: Paths,
    bus: EventBus,
    private readonly options: StatsOptions = {},
  ) {
    this.clock = options.clock ?? { now: () => Date.now() };
    const onRequest = (r: RequestRecord) => this.add({ kind: 'request', ...compact(r) });
    const onFailover = (e: FailoverEvent) => this.add({ kind: 'failover', ...e });
    bus.on('request', onRequest).on('failover', onFailover);
    this.unsubscribe = () => bus.off('request', onRequest).off('failover', onFailover);
  }

  /** Never throws: it runs inside the relay's `finally`. */
  private add(line: StatLine): void {
    if (this.pending.length >= MAX_PENDING) this.pending.shift();
    this.pending.push({ day: dayOf(line.at), json: JSON.stringify(line) });
    if (this.pending.length >= (this.options.batch ?? 256)) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs ?? 1000);
      this.timer.unref();
    }
  }

  /** Appends what is waiting; flushes run one at a time, in order. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending;
    this.pending = [];
    this.writing = this.writing.then(() => this.write(lines));
    return this.writing;
  }

  private async write(lines: PendingLine[]): Promise<void> {
    const byDay = new Map<string, PendingLine[]>();
    for (const line of lines) (byDay.get(line.day) ?? byDay.set(line.day, []).get(line.day)!).push(line);
    for (const [day, list] of byDay) {
      try {
        await ensureDir(statsDir(this.paths));
        await fs.appendFile(statsFile(this.paths, day), list.map((l) => l.json).join('\n') + '\n', { mode: FILE_MODE });
      } catch (err) {
        // Kept for the next flush; a full or read-only disk must not take the gateway down.
        console.error(`aigate: could not write statistics to ${statsFile(this.paths, day)}: ${(err as Error).message}`);
        const room = MAX_PENDING - this.pending.length;
        if (room > 0) this.pending.unshift(...list.slice(-room));
      }
    }
    if (this.prunedDay !== dayOf(this.clock.now())) {
      await this.prune().catch((err) => console.error(`aigate: could not remove old statistics: ${err.message}`));
    }
  }

  /** Deletes day files older than the retention; runs once a day (on the first flush of the day) and on demand. */
  async prune(): Promise<string[]> {
    const now = this.clock.now();
    this.prunedDay = dayOf(now);
    const days = Math.max(1, this.options.retentionDays?.() ?? 90);
    const oldest = dayOf(Date.parse(`${dayOf(now)}T00:00:00Z`) - (days - 1) * DAY_MS);
    const removed: string[] = [];
    for (const day of await statDays(this.paths)) {
      if (day >= oldest) continue;
      await fs.rm(statsFile(this.paths, day), { force: true });
      removed.push(day);
    }
    return removed;
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    await this.flush();
  }
}

/** Rounds timings so a line stays short; copies only the fields a record may hold. */
function compact(r: RequestRecord): RequestRecord {
  const ms = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
  return {
    at: r.at,
    account: r.account,
    model: r.model?.slice(0, 100),
    route: r.route,
    status: r.status,
    client: r.client?.slice(0, 64),
    ttfbMs: ms(r.ttfbMs),
    totalMs: ms(r.totalMs)!,
    usage: r.usage,
    bytes: r.bytes,
    hops: r.hops,
  };
}

/** The days that have a stats file, oldest first. */
export async function statDays(paths: Paths): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(statsDir(paths));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.flatMap((n) => FILE.exec(n)?.[1] ?? []).sort();
}

async function readDay(paths: Paths, day: string): Promise<StatLine[]> {
  let text: string;
  try {
    text = await fs.readFile(statsFile(paths, day), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines: StatLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    try {
      const line = JSON.parse(raw);
      // A line cut by a crash mid-append is skipped, not fatal.
      if (line && typeof line.at === 'number' && (line.kind === 'request' || line.kind === 'failover')) lines.push(line);
    } catch {
      /* see above */
    }
  }
  return lines;
}

/** Every line with `since <= at <= until`, oldest first. */
export async function readStats(paths: Paths, since: number, until = Infinity): Promise<StatLine[]> {
  const first = dayOf(since);
  const last = Number.isFinite(until) ? dayOf(until) : '9999-12-31';
  const days = (await statDays(paths)).filter((d) => d >= first && d <= last);
  const all = (await Promise.all(days.map((d) => readDay(paths, d)))).flat();
  return all.filter((l) => l.at >= since && l.at <= until).sort((a, b) => a.at - b.at);
}

/** The newest `limit` lines, newest first, reading back only as many day files as needed. */
export async function recentStats(paths: Paths, limit: number): Promise<StatLine[]> {
  const out: StatLine[] = [];
  const days = await statDays(paths);
  for (let i = days.length - 1; i >= 0 && out.length < limit; i--) {
    const lines = await readDay(paths, days[i]!);
    out.push(...lines.sort((a, b) => b.at - a.at).slice(0, limit - out.length));
  }
  return out;
}
