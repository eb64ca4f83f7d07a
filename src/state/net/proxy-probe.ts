import http from 'node:http';
import https from 'node:https';
import type { Route } from './upstream-net.js';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

const TIMEOUT_MS = 10_000;

/**
 * One small request to `url`'s origin through `route`'s proxy, to say whether
 * the proxy works: any answer from the upstream means it does; a refused
 * connection, a refused tunnel, a 407 or silence says what is wrong.
 */
export function probeRoute(url: URL, route: Route, timeoutMs = TIMEOUT_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const lib = url.protocol === 'https:' ? https : http;
    let settled = false;
    const done = (ok: boolean, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, message });
    };
    const req = lib.request(new URL('/', url), { method: 'HEAD', agent: route.agent, headers: { 'user-agent': 'aigate doctor' } });
    const timer = setTimeout(() => done(false, `no answer through the proxy within ${timeoutMs / 1000} s`), timeoutMs);
    req.once('proxyConnect', (answer: { statusCode?: number; statusText?: string }) => {
      if (answer.statusCode === 407 || answer.statusCode === 401) done(false, credentialsProblem(route, answer.statusCode));
      else if (answer.statusCode && answer.statusCode !== 200) done(false, `the proxy refused to open a tunnel to ${url.host} (HTTP ${answer.statusCode}${answer.statusText ? ` ${answer.statusText}` : ''})`);
    });
    req.once('response', (res) => {
      res.resume();
      if (res.statusCode === 407) done(false, credentialsProblem(route, 407));
      else done(true, `reaches ${url.host} (HTTP ${res.statusCode} from the upstream)`);
    });
    req.once('error', (err: NodeJS.ErrnoException) => done(false, `cannot reach ${url.host} through it: ${err.code ?? err.message}`));
    req.end();
  });
}

const credentialsProblem = (route: Route, status: number) =>
  route.proxy?.includes('@') ? `the proxy refused its user name and password (HTTP ${status})` : `the proxy asks for a user name and password (HTTP ${status})`;
