import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Conversation } from '../state/conversations.js';
import type { RequestRecord } from '../state/events.js';
import type { AccountRecord } from '../state/schema.js';
import type { TurnMeta } from './affinity.js';
import type { GatewayDeps } from './deps.js';
import type { Route } from './providers.js';
import { parsedBody, type RequestBody } from './request-body.js';

export interface ForwardRequest {
  route: Route;
  method: 'GET' | 'POST';
  /** `?client_version=…` and the like, kept as Codex sent it. */
  query: string;
  body?: RequestBody;
  /** `/ai-router/api/accounts/<name>/…`: this account only, no failover. */
  pinned?: AccountRecord;
}

/** One Codex request on its way through the gateway: what every step of it shares. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  deps: GatewayDeps;
  request: ForwardRequest;
  /** The conversation's key (`session-id`, `thread-id` or `prompt_cache_key`). */
  key?: string;
  conversation?: Conversation;
  meta: TurnMeta;
  /** Aborted when Codex goes away: every upstream request of this exchange goes with it. */
  abort: AbortController;
  record: RequestRecord;
  started: number;
  /** The body as JSON, parsed once for the few requests that must be rewritten. */
  parsed?: Record<string, unknown>;
}

export function parsedOnce(x: Exchange): Record<string, unknown> {
  return (x.parsed ??= parsedBody(x.request.body!));
}

/** Codex's headers for a request the gateway makes itself on this exchange's behalf (no body-specific ones). */
export function ownHeaders(x: Exchange): IncomingHttpHeaders {
  const { 'content-encoding': _e, 'content-length': _l, 'x-codex-turn-state': _t, ...rest } = x.req.headers;
  return { ...rest, accept: 'text/event-stream', 'content-type': 'application/json' };
}
