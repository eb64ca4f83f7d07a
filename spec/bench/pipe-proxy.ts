/**
 * The baseline: the least a Node reverse proxy can do — node:http in, node:http
 * out on a keep-alive agent, bodies piped both ways, hop-by-hop headers dropped.
 * Run as its own process; argv[2] is the upstream origin. With BENCH_VIA_PROXY (an http:// proxy URL)
 * it reaches an https upstream through that proxy's CONNECT tunnels, kept alive (https-proxy-agent).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';

const upstream = new URL(process.argv[2]!);
const secure = upstream.protocol === 'https:';
const lib = secure ? https : http;
const pool = { keepAlive: true, maxSockets: 256 };
const via = process.env.BENCH_VIA_PROXY;
const agent = via ? new HttpsProxyAgent(via, pool) : secure ? new https.Agent(pool) : new http.Agent(pool);
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const name in headers) if (!HOP.has(name)) out[name] = headers[name];
  return out;
}

const server = http.createServer((req, res) => {
  // `protocol` matters to a proxy agent: without it, it tells https from http by the call stack, which a socket
  // freed later no longer shows, so the tunnel went back to the wrong pool and every request opened a new one.
  const up = lib.request({ protocol: upstream.protocol, host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: forwardable(req.headers), agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, forwardable(upRes.headers));
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  res.on('close', () => res.writableFinished || up.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.once('SIGTERM', () => process.exit(0)); // exits cleanly, so --cpu-prof can write its profile
