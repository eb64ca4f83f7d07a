/**
 * Scenario 3, faults in AI Gate itself: `kill -9` of `aigate serve` and of a CLI process in the middle
 * of store writes, statistics batches, token refreshes (the mock OAuth server rotates refresh tokens)
 * and config.toml edits, round after round. After every kill: the store loads; no acknowledged account
 * change is lost; the refresh token AI Gate holds is live (or the kill landed between the server's
 * rotation and the store write — counted); auth.json and config.toml are whole, known versions; and
 * the next start leaves no temp file of the killed process behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startMockAuth, authJsonFor, type MockAuth } from '../mock-auth.js';
import { Store } from '../../src/state/store.js';
import { Vault } from '../../src/state/secrets.js';
import { admin, codexBody, percentile, sleep, streamRequest } from './client.js';
import { isJson, killMoment, ORIGINAL_CONFIG, leftovers, measureWindow, newTally, pathsOf, rand, readRefreshToken, TRIGGERS, type Tally, type Trigger } from './crash-checks.js';
import { freePort, makeHome, runCli, spawnCli, startServe, stopChild } from './processes.js';
import { Scenario, type ScenarioResult } from './report.js';
import { addAccount, adminToken, apiKey, type Suite } from './rig.js';

const POOL = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];

/**
 * The rounds themselves, on one home that keeps accumulating state: what the
 * soak runs 30 / 200 times and `npm test` a handful.
 */
export async function crashRounds(
  suite: Pick<Suite, 'logs' | 'root' | 'mock' | 'secrets' | 'homes'>,
  options: { rounds: number; lockRounds: number },
): Promise<{ tally: Tally; failures: string[]; auth: MockAuth; window: { store: number[]; authJson: number[] } }> {
  const failures: string[] = [];
  const auth = await startMockAuth({ accountId: 'acct-soak', userId: 'user-soak', email: 'soak@example.com' });
  auth.accessTtlSeconds = 120; // always "due" for the scheduler (5 min margin): it refreshes on every tick
  const port = await freePort();
  const home = makeHome(suite.root, `crash-${Date.now()}`, {
    AIGATE_AUTH_ISSUER: auth.url,
    AIGATE_SCHEDULER_INTERVAL: '250ms',
    AIGATE_LISTEN: `127.0.0.1:${port}`,
  });
  suite.homes.push(home);
  const paths = pathsOf(home);
  const configFile = path.join(home.codexHome, 'config.toml');
  const authFile = path.join(home.codexHome, 'auth.json');
  const tally = newTally();

  // The user's setup: a hand-written config.toml, Codex signed in (shared with AI Gate), one third-party key.
  fs.writeFileSync(configFile, ORIGINAL_CONFIG);
  const signIn = async () => {
    const tokens = auth.issue();
    fs.writeFileSync(authFile, authJsonFor(tokens), { mode: 0o600 });
    const r = await runCli(['accounts', 'import', '--name', 'soak'], home, suite.logs);
    if (r.code !== 0) throw new Error(`aigate accounts import failed: ${r.stderr}`);
  };
  await signIn();
  await addAccount(suite as Suite, home, 'tp', `${suite.mock.url}/acct/tp/v1`);
  const on = await runCli(['proxy', 'on'], home, suite.logs);
  if (on.code !== 0) throw new Error(`aigate proxy on failed: ${on.stderr}`);
  const proxied = fs.readFileSync(configFile, 'utf8');
  const off = await runCli(['proxy', 'off'], home, suite.logs);
  if (off.code !== 0 || fs.readFileSync(configFile, 'utf8') !== ORIGINAL_CONFIG) throw new Error(`aigate proxy off did not restore config.toml: ${off.stderr}`);
  const knownConfigs = new Set([ORIGINAL_CONFIG, proxied]);

  const window = await measureWindow(suite, home, auth, port);

  /** What each pooled account should be after the kill: present, absent, or unknown (a change was in flight). */
  const expected = new Map<string, 'present' | 'absent' | 'unknown'>(POOL.map((n) => [n, 'absent']));
  let authBehindBefore = false;
  let lockRoundsDone = 0;
  /** The first token lost in the window is left in place for one round, to see what the next start makes of it. */
  let spentCheck: 'todo' | 'pending' | 'done' = 'todo';

  for (let round = 0; round < options.rounds; round++) {
    const trigger: Trigger = TRIGGERS[round % TRIGGERS.length]!;
    tally.byTrigger[trigger] = (tally.byTrigger[trigger] ?? 0) + 1;
    let serve;
    try {
      serve = await startServe(home, suite.logs, { name: `crash-${round}-${trigger}`, port, readyTimeoutMs: 30_000 });
    } catch (err) {
      tally.serveStartFailures.push(`round ${round}: ${(err as Error).message.slice(0, 300)}`);
      failures.push(`round ${round}: aigate serve did not start after the previous kill`);
      break;
    }
    const token = adminToken(home);
    suite.secrets.add(token);
    let spentRound = false;
    if (spentCheck === 'pending') {
      // AI Gate holds a refresh token the server has spent: the first refresh must get refresh_token_reused,
      // mark the account "needs sign-in" (visible in the admin API) and keep the gateway up.
      spentCheck = 'done';
      spentRound = true;
      const before = auth.reuseAttempts();
      const t0 = Date.now();
      // The killed process may have left the refresh lock behind: it goes stale after 15 s.
      while (auth.reuseAttempts() === before && Date.now() - t0 < 20_000) await sleep(50);
      let state = '';
      while (state !== 'needs-login' && Date.now() - t0 < 25_000) {
        const res = await admin(serve.url, token, suite.logs, 'GET', '/aigate/api/accounts');
        state = res.json?.find?.((a: { name: string }) => a.name === 'soak')?.health?.state ?? '';
        if (state !== 'needs-login') await sleep(100);
      }
      tally.spentToken = `${auth.reuseAttempts() - before} refresh with the spent token (refresh_token_reused); account now "${state}"; gateway ${serve.alive() ? 'up' : 'DOWN'}`;
      if (state !== 'needs-login' || !serve.alive()) failures.push(`round ${round}: after a token lost in the window: ${tally.spentToken}`);
    }
    if (authBehindBefore) {
      // Did this start bring Codex's auth.json up to date with the token AI Gate holds?
      await sleep(600);
      const a = JSON.parse(fs.readFileSync(authFile, 'utf8'));
      if (auth.isLiveRefreshToken(a.tokens.refresh_token)) tally.authJsonRepaired++;
    }

    const stop = { now: false };
    let signalWrite: () => void = () => undefined;
    const wrote = new Promise<void>((r) => (signalWrite = r));
    let signalTraffic: () => void = () => undefined;
    const trafficStarted = new Promise<void>((r) => (signalTraffic = r));

    // Account changes through the admin API: each name flips between present and absent.
    const adminLoop = (async () => {
      for (let i = 0; !stop.now; i++) {
        const name = POOL[rand(0, POOL.length - 1)]!;
        const present = expected.get(name) === 'present';
        const before = expected.get(name)!;
        expected.set(name, 'unknown');
        const pending = present
          ? admin(serve.url, token, suite.logs, 'DELETE', `/aigate/api/accounts/${name}`)
          : admin(serve.url, token, suite.logs, 'POST', '/aigate/api/accounts', { name, baseUrl: `${suite.mock.url}/acct/${name}/v1`, apiKey: trackKey(suite, name) });
        signalWrite();
        const res = await pending;
        if (res.status === 201 || res.status === 200) expected.set(name, present ? 'absent' : 'present');
        else if (res.status === 0) return; // killed mid-request: stays unknown
        else if ((res.status === 409 || res.status === 404) && before === 'unknown') expected.set(name, res.status === 409 ? 'present' : 'absent');
        else tally.unexpectedAnswers.push(`${res.status} ${res.text.slice(0, 200)}`);
        await sleep(rand(5, 40));
      }
    })();
    // Requests through the gateway: statistics lines, batched to disk once a second.
    const traffic = (async () => {
      while (!stop.now) {
        const r = streamRequest(`${serve.base}/accounts/tp/responses`, { body: codexBody(round), headers: { 'x-soak-seed': String(round) } });
        signalTraffic();
        await r;
        await sleep(10);
      }
    })();
    // A CLI process writing at the same time: accounts, or config.toml.
    const cliArgs = round % 2 ? ['proxy', round % 4 === 1 ? 'on' : 'off'] : ['accounts', round % 4 === 0 ? 'add' : 'remove', `c${round % 3}`, ...(round % 4 === 0 ? ['--base-url', `${suite.mock.url}/acct/c/v1`] : [])];
    const cliKey = apiKey('cli');
    suite.secrets.add(cliKey);
    const cli = spawnCli(cliArgs, home, suite.logs, cliKey + '\n');
    const cliStarted = Date.now();

    // When to kill: right after a rotation was answered, a store write was sent, a stats batch was due, mid-CLI, or any time.
    await killMoment(trigger, { auth, wrote, trafficStarted, cliStarted });
    if (cli.child.exitCode === null) tally.cliKilled++;
    await Promise.all([serve.kill9(), stopChild(cli.child, 'SIGKILL')]);
    stop.now = true;
    const cliResult = await cli.result;
    await Promise.all([adminLoop, traffic]);
    tally.rounds++;

    // --- what must hold after the kill ---
    const text = fs.readFileSync(path.join(paths.data, 'store.json'), 'utf8');
    let store: Store | undefined;
    try {
      JSON.parse(text);
      store = await Store.open(paths);
      tally.storeLoads++;
    } catch (err) {
      failures.push(`round ${round} (${trigger}): the store does not load: ${(err as Error).message}`);
      break;
    }
    const data = store.data;
    store.close();
    const names = new Set(data.accounts.map((a) => a.name));
    for (const [name, want] of expected) {
      if (want === 'present' && !names.has(name)) {
        tally.accountsLost++;
        failures.push(`round ${round} (${trigger}): account ${name}, acknowledged as added, is gone`);
      }
      if (want === 'absent' && names.has(name)) {
        tally.accountsResurrected++;
        failures.push(`round ${round} (${trigger}): account ${name}, acknowledged as removed, is back`);
      }
      if (want === 'unknown') expected.set(name, names.has(name) ? 'present' : 'absent');
    }
    if (cliResult.code === 0 && cliArgs[0] === 'accounts') {
      const name = cliArgs[2]!;
      const ok = cliArgs[1] === 'add' ? names.has(name) : !names.has(name);
      if (!ok) failures.push(`round ${round}: \`aigate ${cliArgs.join(' ')}\` exited 0 but the store disagrees`);
    }
    if (!names.has('soak') || !names.has('tp')) failures.push(`round ${round}: a set-up account is gone (${[...names].join(', ')})`);

    const vault = await Vault.open(paths, null);
    let needSignIn = spentRound;
    const held = readRefreshToken(vault, data);
    if (spentRound) tally.spentRounds++;
    else if (held && auth.isLiveRefreshToken(held)) tally.tokenLive++;
    else if (held && auth.refreshCalls.some((c) => c.token === held && c.outcome === 'rotated')) {
      // Rotated by the server, but the kill came before the new token reached the store.
      tally.tokenWindow++;
      if (spentCheck === 'todo') spentCheck = 'pending';
      else needSignIn = true;
    } else {
      tally.tokenOther++;
      failures.push(`round ${round} (${trigger}): AI Gate holds a refresh token the auth server does not know as live or just rotated`);
      needSignIn = true;
    }

    const authText = fs.readFileSync(authFile, 'utf8');
    let codexRt: string | undefined;
    try {
      codexRt = JSON.parse(authText).tokens.refresh_token;
      if (auth.issued.some((t) => t.refreshToken === codexRt)) tally.authJsonWhole++;
      else failures.push(`round ${round}: auth.json holds a refresh token the auth server never issued`);
    } catch {
      failures.push(`round ${round} (${trigger}): auth.json is not whole JSON: ${authText.slice(0, 80)}…`);
    }
    authBehindBefore = !needSignIn && !!codexRt && codexRt !== held && !auth.isLiveRefreshToken(codexRt);
    if (authBehindBefore) tally.authJsonBehind++;

    const config = fs.readFileSync(configFile, 'utf8');
    if (knownConfigs.has(config)) tally.configWhole++;
    else {
      tally.configOther++;
      failures.push(`round ${round} (${trigger}): config.toml is neither the user's bytes nor AI Gate's proxied version:\n${config}`);
    }

    const statsDir = path.join(paths.data, 'stats');
    tally.statsLines = tally.statsBad = 0;
    for (const f of fs.existsSync(statsDir) ? fs.readdirSync(statsDir) : []) {
      const lines = fs.readFileSync(path.join(statsDir, f), 'utf8').split('\n').filter(Boolean);
      tally.statsLines += lines.length;
      tally.statsBad += lines.filter((l) => !isJson(l)).length;
    }

    // The Store.open above was the first start since the kill: it removed the temp files the kill left.
    const left = leftovers(paths);
    tally.tempFilesLeft += left.temps.length;
    if (left.temps.length) failures.push(`round ${round} (${trigger}): temp files still there after the next start: ${left.temps.map((t) => path.relative(home.dir, t)).join(', ')}`);
    if (left.locks.length) {
      tally.locksLeft++;
      if (lockRoundsDone < options.lockRounds && left.locks.some((l) => /store\.json\.lock$/.test(l))) {
        // Left as they are: how long does the next process wait for a lock a dead one held, and does it get it?
        lockRoundsDone++;
        const t0 = Date.now();
        const probe = await runCli(['accounts', 'add', `lockprobe${round}`, '--base-url', `${suite.mock.url}/acct/lp/v1`], home, suite.logs, trackKey(suite, 'lp') + '\n');
        tally.lockWaits.push(`${left.locks.map((l) => path.basename(l)).join('+')}: next \`aigate accounts add\` ${probe.code === 0 ? 'succeeded' : `FAILED (${probe.stderr.trim().slice(0, 120)})`} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        if (probe.code === 0) await runCli(['accounts', 'remove', `lockprobe${round}`], home, suite.logs);
      } else {
        // Stand in for the stale timeout passing, so the next round need not wait for it.
        const past = new Date(Date.now() - 120_000);
        for (const l of left.locks) if (fs.existsSync(l)) fs.utimesSync(l, past, past);
      }
    }
    if (needSignIn) await signIn(); // what the user does when `aigate accounts list` says "needs sign-in"
  }

  // The end of it all: `proxy off` still gives back exactly the user's config.toml.
  const finalOff = await runCli(['proxy', 'off'], home, suite.logs);
  const finalConfig = fs.readFileSync(configFile, 'utf8');
  if (finalConfig !== ORIGINAL_CONFIG) failures.push(`after the rounds, \`aigate proxy off\` (${finalOff.code}) left config.toml as:\n${finalConfig}\n${finalOff.stderr}`);
  for (const t of auth.issued) [t.accessToken, t.refreshToken, t.idToken].forEach((x) => suite.secrets.add(x));
  if (tally.unexpectedAnswers.length) failures.push(`unexpected admin answers: ${tally.unexpectedAnswers.slice(0, 3).join(' | ')}`);
  return { tally, failures, auth, window };
}

function trackKey(suite: Pick<Suite, 'secrets'>, name: string): string {
  const key = apiKey(name);
  suite.secrets.add(key);
  return key;
}

export async function crashScenario(suite: Suite): Promise<ScenarioResult> {
  const s = new Scenario('3. kill -9');
  const { tally, failures, auth, window } = await crashRounds(suite, suite.mode.crash);
  const range = (v: number[]) => (v.length ? `${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)} ms (median ${percentile(v, 50).toFixed(1)}, ${v.length} rotations)` : 'not measured');
  s.set('rotation answered → in store.json', range(window.store));
  s.set('rotation answered → in auth.json', range(window.authJson));
  s.set('rounds survived', `${tally.storeLoads} of ${tally.rounds} (store loads after every kill); by trigger ${JSON.stringify(tally.byTrigger)}`);
  s.set('CLI processes killed mid-run', tally.cliKilled);
  s.set('accounts lost / resurrected', `${tally.accountsLost} / ${tally.accountsResurrected}`);
  s.set('refresh token after kill', `${tally.tokenLive} live, ${tally.tokenWindow} in the rotation window, ${tally.tokenOther} other, ${tally.spentRounds} round run on a spent one (${auth.rotations()} rotations)`);
  if (tally.spentToken) s.set('next start with a spent token', tally.spentToken);
  s.set('auth.json', `${tally.authJsonWhole} whole; ${tally.authJsonBehind} behind the store after a kill, ${tally.authJsonRepaired} brought up to date by the next start`);
  s.set('config.toml', `${tally.configWhole} old-or-new bytes, ${tally.configOther} other`);
  s.set('stats lines / unparseable', `${tally.statsLines} / ${tally.statsBad}`);
  s.set('rounds leaving a lock / temp files left after the next start', `${tally.locksLeft} / ${tally.tempFilesLeft}`);
  for (const w of tally.lockWaits) s.note(`lock left by a kill: ${w}`);
  if (tally.tokenWindow) {
    s.note(
      `${tally.tokenWindow} of ${tally.rounds} kills (${tally.byTrigger.refresh ?? 0} aimed 0–12 ms after a rotation was answered) landed between the auth server's rotation and the store write: ` +
        'the server had spent the old token and AI Gate never received/saved the new one. No design closes that window (the new token exists only in the answer); ' +
        'AI Gate persists it before anything else, and on the next start the spent token gets refresh_token_reused → the account is marked "needs sign-in".',
    );
  }
  for (const f of tally.serveStartFailures) s.note(f);
  for (const f of failures) s.expect(false, f);
  await auth.close();
  return s.done();
}
