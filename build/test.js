// Runs the test suites with node:test: `npm test` runs all; `node build/test.js unit|e2e|browser` one group.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const groups = {
  unit: { dir: 'spec', concurrency: 2 },
  e2e: { dir: 'spec/e2e', concurrency: 1, isolated: true },
  browser: { dir: 'spec/browser', concurrency: 1, isolated: true },
};
const wanted = process.argv.slice(2).filter((a) => groups[a]);
const run = wanted.length ? wanted : Object.keys(groups);

/** What a group needs on the machine beyond npm packages, with the Debian package that brings it. */
const needs = {
  unit: [['flock', 'util-linux']],
  e2e: [['unshare', 'util-linux'], ['ip', 'iproute2'], ['tinyproxy', 'tinyproxy'], ['microsocks', 'microsocks'], ['openssl', 'openssl']],
  browser: [['unshare', 'util-linux'], ['ip', 'iproute2'], ['chromium', 'chromium']],
};
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const missing = [...new Set(run.flatMap((name) => (needs[name] ?? []).filter(([command]) => !has(command)).map(([, pkg]) => pkg)))];
if (missing.length) {
  console.error(`npm test needs ${missing.join(', ')} (Debian: apt-get install ${missing.join(' ')}); .ci/run installs them.`);
  process.exit(1);
}

const build = spawnSync('node', ['build/build.js'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

let failed = false;
for (const name of run) {
  const { dir, concurrency, isolated } = groups[name];
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f));
  if (!files.length) continue;
  console.log(`\n# ${name}: ${files.length} files`);
  const node = ['node', '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
  // End-to-end tests drive real clients (Codex, Chromium): they run in a network namespace whose only
  // interface is loopback, so nothing they do can reach beyond this machine.
  const command = isolated ? ['unshare', '-rn', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...node] : node;
  const result = spawnSync(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
