/**
 * Scenario 6, secrets: every file AI Gate wrote in every home of the run,
 * every line any process printed, and every admin API answer the harness got,
 * searched for every secret the run created — API keys, OAuth tokens, admin
 * tokens and the vault keys — in plaintext or base64, whole or by their random
 * tail. The files that hold a secret by design are left out: the key file and
 * the admin token file (each holds its own), and Codex's auth.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Scenario, type ScenarioResult } from './report.js';
import type { Suite } from './rig.js';

/** By design: the vault key, the admin token, and Codex's own login file (AI Gate writes refreshed tokens back). */
const BY_DESIGN = [/aigate\/data\/secret\.key$/, /aigate\/data\/admin-token$/, /codex\/auth\.json$/];

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export async function secretsScan(suite: Suite): Promise<ScenarioResult> {
  const s = new Scenario('6. secrets scan');
  const secrets = new Set(suite.secrets);
  for (const home of suite.homes) {
    const key = path.join(home.aigateHome, 'data', 'secret.key');
    if (fs.existsSync(key)) secrets.add(fs.readFileSync(key, 'utf8').trim());
  }
  const needles: { needle: string; what: string }[] = [];
  for (const secret of secrets) {
    if (!secret || secret.length < 16) continue;
    const what = `${secret.slice(0, 6)}…(${secret.length} chars)`;
    needles.push({ needle: secret, what }, { needle: Buffer.from(secret).toString('base64'), what: `${what} in base64` });
    // The random tail alone, and the head where it is random too (V8's JSON errors quote the first 10 characters):
    // a message that quotes part of a secret still gives it away.
    needles.push({ needle: secret.slice(-16), what: `the last 16 chars of ${what}` });
    if (!/^(sk-|eyJ)/.test(secret)) needles.push({ needle: secret.slice(0, 10), what: `the first 10 chars of ${what}` });
  }
  const homeFiles = suite.homes.flatMap((h) => files(h.dir)).filter((f) => !BY_DESIGN.some((re) => re.test(f)));
  const logFiles = [...suite.logs.files];
  const hits: string[] = [];
  const leftovers: string[] = [];
  let bytes = 0;
  for (const file of [...homeFiles, ...logFiles]) {
    const text = fs.readFileSync(file).toString('latin1');
    bytes += text.length;
    const found = needles.find((n) => text.includes(n.needle));
    if (!found) continue;
    // A temp copy of auth.json that a kill -9 left beside it holds what auth.json holds (same folder, 0600).
    if (/codex\/auth\.json\.[0-9a-f]+$/.test(file)) leftovers.push(path.basename(file));
    else hits.push(`${path.relative(suite.root, file).startsWith('..') ? file : path.relative(suite.root, file)}: ${found.what}`);
  }
  s.set('secrets searched for', `${secrets.size} (${needles.length} needles: plaintext, base64, random tail)`);
  s.set('files scanned', `${homeFiles.length} written by AI Gate in ${suite.homes.length} homes, ${logFiles.length} logs and answer records (${(bytes / 1048576).toFixed(1)} MB)`);
  s.set('plaintext secrets found', hits.length);
  if (leftovers.length) s.note(`${leftovers.length} temp copies of auth.json left by kill -9 beside it (${leftovers.slice(0, 3).join(', ')}…): Codex's own tokens, mode 0600, never cleaned up`);
  for (const h of hits.slice(0, 20)) s.expect(false, h);
  return s.done();
}
