/**
 * The popovers' only way to the rest of AI Gate: the admin API on the same
 * origin, authenticated by the session cookie the one-time login link set.
 */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

const BASE = '/aigate/api/';

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(BASE + path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('AI Gate is not answering. Is the gateway running?', 0);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json as { error?: { message?: string; code?: string } } | undefined)?.error;
    throw new ApiError(error?.message ?? `${method} ${path} answered ${res.status}`, res.status, error?.code);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
  del: <T>(path: string) => call<T>('DELETE', path),
};

export const enc = encodeURIComponent;

export type { AccountView, ForecastAnswer, QuotaWindowView, RecentRecord, StatsAnswer, StatsRow } from '../admin/answers.js';
