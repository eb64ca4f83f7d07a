/**
 * `npm run soak`: load, upstream faults, kill -9, concurrency and hostile
 * input against the built `aigate`, each scenario printing its figures, then
 * a secrets scan over everything AI Gate wrote, logged and answered.
 *
 *   SOAK_MODE=short   CI (default when CI=true): ~3 minutes on 2 cores
 *   SOAK_MODE=long    locally: 60 s of load, a 1 GB stream, 200 kill -9 rounds
 *   SOAK_ONLY=load,faults,crash,concurrency,hostile   a subset (the scan always runs)
 *   SOAK_KEEP=1       keep the temp homes
 *
 * Loopback only; bounded in time and request count. Exit code 1 when any
 * scenario failed. Logs and a JSON summary go to spec/artifacts/soak/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { concurrencyScenario } from './concurrency.js';
import { crashScenario } from './crash.js';
import { hostileScenario, startSlowClients } from './hostile.js';
import { loadScenario } from './load.js';
import { soakMode } from './mode.js';
import { build, Logs, ROOT, startMock, tempRoot } from './processes.js';
import { print, type ScenarioResult } from './report.js';
import { startRig, type Suite } from './rig.js';
import { secretsScan } from './secrets-scan.js';
import { upstreamFaultsScenario } from './upstream-faults.js';

const mode = soakMode();
const only = new Set((process.env.SOAK_ONLY ?? 'load,faults,crash,concurrency,hostile').split(',').map((s) => s.trim()));
const out = path.join(ROOT, 'spec', 'artifacts', 'soak');
fs.rmSync(path.join(out, 'logs'), { recursive: true, force: true });
const logs = new Logs(path.join(out, 'logs'));
const started = Date.now();
// A hard stop, so a hung scenario cannot hold CI: generous against the mode's own bounds.
const limit = setTimeout(() => {
  console.error(`soak: over the time limit for ${mode.name} mode; stopping`);
  process.exit(2);
}, mode.name === 'short' ? 6 * 60_000 : 40 * 60_000);
limit.unref();

console.log(`aigate soak, ${mode.name} mode (SOAK_MODE=${mode.name}); logs in ${path.relative(process.cwd(), out)}/logs`);
build();
const mock = await startMock(logs);
const suite: Suite = { mode, logs, root: tempRoot('aigate-soak-'), mock, secrets: new Set(), homes: [] };
const results: ScenarioResult[] = [];
const run = async (key: string, scenario: () => Promise<ScenarioResult>) => {
  if (!only.has(key) && key !== 'secrets') return;
  let result: ScenarioResult;
  try {
    result = await scenario();
  } catch (err) {
    result = { name: key, figures: {}, failures: [`threw: ${(err as Error).stack ?? err}`], notes: [], ms: 0 };
  }
  print(result);
  results.push(result);
};

try {
  // The slow clients work against their own gateway from the start, so the gateway's timeouts have time to cut them.
  const slow = only.has('hostile') ? await startSlowClients(suite) : undefined;
  if (only.has('load') || only.has('faults')) {
    const rig = await startRig(suite, 'gateway', ['alpha', 'bravo', 'charlie'], { AIGATE_HEADERS_TIMEOUT_MS: '1500' });
    await run('load', () => loadScenario(suite, rig));
    await run('faults', () => upstreamFaultsScenario(suite, rig));
    await rig.serve.stop();
  }
  await run('crash', () => crashScenario(suite));
  await run('concurrency', () => concurrencyScenario(suite));
  if (slow) await run('hostile', () => hostileScenario(suite, slow));
  await run('secrets', () => secretsScan(suite));
} finally {
  await mock.stop();
  if (!process.env.SOAK_KEEP) fs.rmSync(suite.root, { recursive: true, force: true });
  else console.log(`homes kept in ${suite.root}`);
}

const failed = results.filter((r) => r.failures.length);
fs.writeFileSync(path.join(out, `summary-${mode.name}.json`), JSON.stringify({ mode: mode.name, at: new Date().toISOString(), seconds: (Date.now() - started) / 1000, results }, null, 2));
console.log(`\nsoak ${mode.name}: ${results.length - failed.length}/${results.length} scenarios passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
// The plain closing line CI reads: scenarios passed and failed.
console.log(`soak: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
