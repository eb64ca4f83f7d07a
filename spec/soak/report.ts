/** What each scenario hands back, and how a run prints it. */

export interface ScenarioResult {
  name: string;
  /** Numbers worth reporting, in print order. */
  figures: Record<string, unknown>;
  /** Broken expectations; empty when the scenario passed. */
  failures: string[];
  /** Things measured that are not failures (windows, timings, findings to read). */
  notes: string[];
  ms: number;
}

export class Scenario {
  readonly figures: Record<string, unknown> = {};
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  private readonly started = Date.now();

  constructor(readonly name: string) {}

  set(key: string, value: unknown): void {
    this.figures[key] = value;
  }

  /** Records a failure unless `ok`; returns `ok`. */
  expect(ok: boolean, message: string): boolean {
    if (!ok) this.failures.push(message);
    return ok;
  }

  note(message: string): void {
    this.notes.push(message);
  }

  done(): ScenarioResult {
    return { name: this.name, figures: this.figures, failures: this.failures, notes: this.notes, ms: Date.now() - this.started };
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const ms = (v: number) => `${v.toFixed(1)} ms`;

function show(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function print(result: ScenarioResult): void {
  const verdict = result.failures.length ? 'FAIL' : 'PASS';
  console.log(`\n== ${result.name}: ${verdict} (${(result.ms / 1000).toFixed(1)} s)`);
  const width = Math.max(0, ...Object.keys(result.figures).map((k) => k.length));
  for (const [key, value] of Object.entries(result.figures)) console.log(`   ${key.padEnd(width)}  ${show(value)}`);
  for (const n of result.notes) console.log(`   note: ${n}`);
  for (const f of result.failures) console.log(`   FAILED: ${f}`);
}
