import type { IncomingMessage, ServerResponse } from 'node:http';
import { debuglog } from 'node:util';
import type { AccountRecord } from '../state/schema.js';
import type { GatewayDeps } from './deps.js';
import { relayedHeaders, targetFor } from './providers.js';
import { candidates } from './routing.js';
import { readSmall } from './upstream.js';

const log = debuglog('aigate:proxy');
const EMPTY = Buffer.from('{"models":[]}');

/**
 * `GET /models`: Codex expects `{"models":[ModelInfo…]}` (the ChatGPT backend's
 * shape). Third-party providers answer the OpenAI list shape (`{"data":[…]}`) or
 * nothing; Codex accepts `{"models":[]}` and keeps its bundled list, so that is
 * what it gets instead of an answer it cannot parse.
 */
export async function serveModels(
  req: IncomingMessage,
  res: ServerResponse,
  deps: GatewayDeps,
  options: { query: string; pinned?: AccountRecord },
): Promise<void> {
  const { accounts } = candidates(deps.store.data, deps.health, { pinned: options.pinned, failover: true });
  const abort = new AbortController();
  res.once('close', () => res.writableFinished || abort.abort());
  for (const account of accounts.slice(0, 2)) {
    try {
      const secret = await deps.tokens.secretFor(account);
      const target = targetFor(account, secret, 'models', options.query, req.headers, deps.urls);
      const up = await deps.upstream.send(account, target, { method: 'GET', signal: abort.signal, headersTimeoutMs: deps.headersTimeoutMs });
      const body = await readSmall(up, 8 * 1024 * 1024);
      if (up.statusCode === 200 && hasModelList(body)) {
        const headers = relayedHeaders(up.headers);
        headers['content-length'] = body.length;
        res.writeHead(200, headers);
        res.end(body);
        return;
      }
      if (up.statusCode === 200 || up.statusCode === 404) break; // answered, just not in Codex's shape
      log('models from %s: %d', account.name, up.statusCode);
    } catch (err) {
      if (abort.signal.aborted) return;
      log('models from %s: %s', account.name, (err as Error).message);
    }
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': EMPTY.length });
  res.end(EMPTY);
}

function hasModelList(body: Buffer): boolean {
  try {
    return Array.isArray(JSON.parse(body.toString()).models);
  } catch {
    return false;
  }
}
