/**
 * The ChatGPT Codex backend for several official accounts at once. Every
 * official account goes to the same base URL, told apart by its
 * `chatgpt-account-id`: this server hands each request to that account's own
 * mock upstream (its tag, plans and record), byte for byte both ways.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockUpstream, type MockOptions, type MockUpstream } from './mock-upstream.js';

export interface MockChatgpt {
  /** Where AIGATE_CHATGPT_BASE_URL points: `<url>/backend-api/codex`. */
  baseUrl: string;
  /** Each account's upstream, by its ChatGPT account id. */
  accounts: Record<string, MockUpstream>;
  close(): Promise<void>;
}

export async function startMockChatgpt(accounts: Record<string, MockOptions>): Promise<MockChatgpt> {
  const mocks: Record<string, MockUpstream> = {};
  for (const [id, options] of Object.entries(accounts)) mocks[id] = await startMockUpstream(options);
  const server = http.createServer((req, res) => {
    const mock = mocks[String(req.headers['chatgpt-account-id'] ?? '')];
    if (!mock) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `mock backend: no account ${req.headers['chatgpt-account-id'] ?? '(none)'}`, type: 'invalid_request_error' } }));
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: mock.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // A stream the account's mock cut mid-way is cut here too, not ended as if it were whole.
      answer.once('close', () => answer.complete || res.destroy());
    });
    // A fault the account's mock injects (a reset, a cut) reaches the client as the same break.
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${url}/backend-api/codex`,
    accounts: mocks,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(Object.values(mocks).map((m) => m.close()));
    },
  };
}
