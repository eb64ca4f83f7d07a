/**
 * The baseline: the least a Node reverse proxy can do — node:http in, node:http
 * out on a keep-alive agent, bodies piped both ways, hop-by-hop headers dropped.
 * Run as its own process; argv[2] is the upstream origin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.argv[2]!);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const name in headers) if (!HOP.has(name)) out[name] = headers[name];
  return out;
}

const server = http.createServer((req, res) => {
  const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: forwardable(req.headers), agent }, (upRes) => {
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
