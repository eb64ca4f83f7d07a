/**
 * Real proxies and a TLS upstream on loopback, for the upstream-proxy tests and
 * the bench: Debian's tinyproxy (HTTP CONNECT and forwarding, Basic auth) and
 * microsocks (SOCKS5), each with its own config in a temp dir. A proxy can be
 * given a hosts file of its own (a mount namespace, `unshare -m`), so a name
 * like `upstream.test` resolves for the proxy and nowhere else; each proxy binds
 * its outgoing connections to an address of its own in 127/8, and the upstream
 * can refuse every connection that does not come from one of them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { answerEvents } from './mock-upstream.js';

export interface ProxyProcess {
  /** `scheme://[user:pass@]127.0.0.1:port` */
  url: string;
  port: number;
  /** What the proxy logged so far (its connections). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits (bounded) until something accepts connections on 127.0.0.1:port. */
async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before listening on ${port}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port} within 5 s`);
}

/** A hosts file mapping these names to 127.0.0.1, for a process started with `hosts`. */
export async function hostsFile(dir: string, names: string[]): Promise<string> {
  const file = path.join(dir, `hosts-${names.join('-')}`);
  await fs.writeFile(file, `127.0.0.1 localhost\n${names.map((n) => `127.0.0.1 ${n}`).join('\n')}\n`);
  return file;
}

/** `command` in a mount namespace of its own where /etc/hosts is `hosts` (when given). */
export function spawnWithHosts(command: string[], hosts: string | undefined, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  // A mount namespace needs root, or a user namespace of its own (`-r`) for everyone else.
  const unshare = process.getuid?.() === 0 ? ['unshare', '-m'] : ['unshare', '-rm'];
  const [cmd, ...args] = hosts ? [...unshare, 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, ...command] : command;
  return spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

export interface ProxyOptions {
  /** The address in 127/8 its outgoing connections come from. */
  bind: string;
  auth?: { user: string; pass: string };
  /** A hosts file for the proxy alone (see hostsFile). */
  hosts?: string;
}

export async function startTinyproxy(dir: string, options: ProxyOptions): Promise<ProxyProcess> {
  const port = await freePort();
  const logFile = path.join(dir, `tinyproxy-${port}.log`);
  const conf = path.join(dir, `tinyproxy-${port}.conf`);
  const lines = [`Port ${port}`, 'Listen 127.0.0.1', `Bind ${options.bind}`, 'Timeout 600', 'MaxClients 512', 'LogLevel Connect', `LogFile "${logFile}"`, 'DisableViaHeader Yes'];
  if (options.auth) lines.push(`BasicAuth ${options.auth.user} ${options.auth.pass}`);
  await fs.writeFile(conf, `${lines.join('\n')}\n`);
  await fs.writeFile(logFile, '');
  const child = spawnWithHosts(['tinyproxy', '-d', '-c', conf], options.hosts);
  await waitForPort(port, child, 'tinyproxy');
  const creds = options.auth ? `${options.auth.user}:${options.auth.pass}@` : '';
  return { url: `http://${creds}127.0.0.1:${port}`, port, log: () => fs.readFile(logFile, 'utf8'), stop: stopper(child) };
}

export async function startMicrosocks(options: ProxyOptions & { scheme?: 'socks5' | 'socks5h' }): Promise<ProxyProcess> {
  const port = await freePort();
  const auth = options.auth ? ['-u', options.auth.user, '-P', options.auth.pass] : [];
  const child = spawnWithHosts(['microsocks', '-i', '127.0.0.1', '-p', String(port), '-b', options.bind, ...auth], options.hosts);
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await waitForPort(port, child, 'microsocks');
  const creds = options.auth ? `${options.auth.user}:${options.auth.pass}@` : '';
  return { url: `${options.scheme ?? 'socks5h'}://${creds}127.0.0.1:${port}`, port, log: async () => log, stop: stopper(child) };
}

/** A self-signed certificate for these names, made now (openssl), for a TLS upstream and NODE_EXTRA_CA_CERTS. */
export function makeCert(dir: string, names: string[]): { cert: string; key: string } {
  const cert = path.join(dir, 'upstream-cert.pem');
  const key = path.join(dir, 'upstream-key.pem');
  const san = names.map((n) => `DNS:${n}`).join(',');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

export interface TlsSeen {
  path: string;
  /** The address the connection came from: a proxy's bind address, or 127.0.0.1 for a direct one. */
  from: string;
  authorization?: string;
}

export interface TlsUpstream {
  port: number;
  seen: TlsSeen[];
  /** Connections refused because they came from elsewhere than `onlyFrom`. */
  refused: string[];
  /** Statuses to answer the next `/responses` requests with instead of a stream. */
  plans: number[];
  close(): Promise<void>;
}

/**
 * A Responses API upstream over TLS that streams what Codex accepts
 * (mock-upstream's events) and answers `/models` with `{"models":[]}`.
 * With `onlyFrom`, a connection from any other address is cut at once, so a
 * request that skipped the proxy cannot pass silently.
 */
export async function startTlsUpstream(options: { cert: string; key: string; tag: string; onlyFrom?: string[] }): Promise<TlsUpstream> {
  const seen: TlsSeen[] = [];
  const refused: string[] = [];
  const plans: number[] = [];
  const server = https.createServer({ cert: await fs.readFile(options.cert), key: await fs.readFile(options.key) }, (req, res) => {
    req.resume();
    req.once('end', () => {
      seen.push({ path: req.url ?? '', from: req.socket.remoteAddress ?? '', authorization: req.headers.authorization });
      if (req.url?.includes('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"models":[]}');
      }
      const status = plans.shift();
      if (status) {
        res.writeHead(status, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: `scripted ${status}`, type: 'invalid_request_error', code: null } }));
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(answerEvents({ text: `Hello through ${options.tag}.`, tag: options.tag }).join(''));
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    if (options.onlyFrom && !options.onlyFrom.includes(socket.remoteAddress ?? '')) {
      refused.push(socket.remoteAddress ?? '');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    refused,
    plans,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ServeChild {
  base: string;
  url: string;
  /** What `aigate serve` wrote to stderr (its log) so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * `aigate serve` as a child process (NODE_EXTRA_CA_CERTS is read at process
 * start, so a gateway that must trust a test certificate cannot run in the
 * test's own process), optionally with a hosts file of its own.
 */
export async function startServe(root: string, env: NodeJS.ProcessEnv, hosts?: string): Promise<ServeChild> {
  const child = spawnWithHosts([process.execPath, path.join(root, 'bin/aigate.js'), 'serve', '--listen', '127.0.0.1:0', '--json'], hosts, env);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /"url": "([^"]+)"/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`aigate serve exited (${code}):\n${stderr}`)));
  });
  return { url, base: `${url}/ai-router/api`, log: () => stderr, stop: stopper(child) };
}
