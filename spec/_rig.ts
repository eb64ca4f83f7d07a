/** A gateway in this process with one mock upstream per account, a test clock, and the failover events it emits. */
import { after } from 'node:test';
import type { FailoverEvent } from '../src/state/events.js';
import { addProvider, parseSse, postResponses, startGateway, tempHome, TestClock, turn } from './_helpers.js';
import { startMockUpstream, type MockOptions, type MockUpstream } from './mock-upstream.js';

/** A gateway with one mock upstream per account name, a test clock, and the failover events it emitted. */
export async function failoverRig(names: string[], options: { headersTimeoutMs?: number; mock?: Partial<MockOptions>; mocks?: Record<string, Partial<MockOptions>> } = {}) {
  const home = await tempHome();
  const clock = new TestClock();
  const env = { ...home.env, AIGATE_HEADERS_TIMEOUT_MS: String(options.headersTimeoutMs ?? 5000) };
  const gw = await startGateway({ ...home, env }, { clock, env });
  const mocks: Record<string, MockUpstream> = {};
  for (const name of names) {
    mocks[name] = await startMockUpstream({ tag: name, reasoning: true, ...options.mock, ...options.mocks?.[name] });
    after(() => mocks[name]!.close());
    await addProvider(gw, name, `${mocks[name]!.url}/v1`);
  }
  const events: FailoverEvent[] = [];
  gw.bus.on('failover', (e) => events.push(e));
  const account = (name: string) => {
    const record = gw.store.data.accounts.find((a) => a.name === name)!;
    return { ...record, health: gw.health.of(record) };
  };
  const ask = async (text: string, session = `s-${Math.random()}`, body: Record<string, unknown> = {}) => {
    const res = await postResponses(gw.base, turn(text, body), { 'session-id': session });
    // A cut stream ends mid-event: its last block is not JSON.
    const complete = res.text.slice(0, res.text.lastIndexOf('\n\n') + 2);
    return { ...res, events: res.status === 200 ? parseSse(complete) : [] };
  };
  const answeredBy = (res: { events: any[] }) => /Hello from (\w+)/.exec(res.events.at(-1)?.response?.output?.at(-1)?.content?.[0]?.text ?? '')?.[1];
  return { home, clock, gw, mocks, events, account, ask, answeredBy };
}

export const inSeconds = (clock: TestClock, s: number) => Math.floor(clock.now() / 1000) + s;

