/**
 * The same pipe proxy on `got` streams (the project's HTTP client for the
 * non-hot path), to show what got would cost on the relay. got copies the
 * upstream status and headers onto a piped ServerResponse itself.
 * Run as its own process; argv[2] is the upstream origin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import got from 'got';

const upstream = process.argv[2]!;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const client = got.extend({ decompress: false, throwHttpErrors: false, followRedirect: false, retry: { limit: 0 }, agent: { http: agent } });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

const server = http.createServer((req, res) => {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const name in req.headers) if (!HOP.has(name)) headers[name] = req.headers[name];
  const up = client.stream(`${upstream}${req.url}`, { method: req.method as 'POST', headers });
  up.on('error', () => res.destroy());
  res.on('close', () => res.writableFinished || up.destroy());
  req.pipe(up).pipe(res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.once('SIGTERM', () => process.exit(0)); // exits cleanly, so --cpu-prof can write its profile
