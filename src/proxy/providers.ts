import type { Agent, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { AccountRecord } from '../state/schema.js';

/** The Codex routes the gateway serves, relative to a provider's base URL. */
export type Route = 'responses' | 'responses/compact' | 'models';

export interface UpstreamTarget {
  url: URL;
  headers: OutgoingHttpHeaders;
  /** A proxy's agent; absent: the direct keep-alive pool. */
  agent?: Agent;
  /** That proxy, password masked, for error messages. */
  proxy?: string;
}

export interface ProviderUrls {
  /** Official accounts' Responses API base (`AIGATE_CHATGPT_BASE_URL`). */
  chatgptBaseUrl: string;
}

export const DEFAULT_CHATGPT_BASE_URL = 'https://chatgpt.com/backend-api/codex';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the gateway sets itself. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // Codex's own credentials are replaced by the chosen account's.
  'authorization',
  'chatgpt-account-id',
  'api-key',
  'x-api-key',
  'openai-organization',
  'openai-project',
  // The SSE tap reads the stream, so it must arrive uncompressed (loopback to Codex costs nothing).
  'accept-encoding',
]);

/**
 * Where a route goes for an account, and with which credentials. Providers are
 * data: an official account is the ChatGPT Codex backend with a bearer access
 * token and `chatgpt-account-id`; a third-party account is its own base URL with
 * its API key.
 */
export function targetFor(
  account: AccountRecord,
  secret: string,
  route: Route,
  query: string,
  clientHeaders: IncomingHttpHeaders,
  urls: ProviderUrls,
): UpstreamTarget {
  const base = account.kind === 'official' ? urls.chatgptBaseUrl : account.baseUrl!;
  const url = new URL(`${base.replace(/\/+$/, '')}/${route}${query}`);
  const headers: OutgoingHttpHeaders = {};
  for (const name in clientHeaders) {
    if (!DROPPED_REQUEST_HEADERS.has(name)) headers[name] = clientHeaders[name];
  }
  headers['accept-encoding'] = 'identity';
  headers.authorization = `Bearer ${secret}`;
  if (account.kind === 'official' && account.chatgptAccountId) headers['chatgpt-account-id'] = account.chatgptAccountId;
  return { url, headers };
}

/** Response headers that describe the upstream connection, not the response. */
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'trailer', 'upgrade']);

export function relayedHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) out[name] = upstream[name];
  }
  return out;
}
