/**
 * The hostile requests themselves, as raw bytes on a fresh socket: what the
 * soak's scenario 5 and `spec/hardening.test.ts` send.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { apiKey } from './rig.js';

export interface RawCase {
  name: string;
  /** The whole request, bytes as they go on the wire (Host and Connection: close are added unless `raw`). */
  bytes: Buffer;
}

export interface RawAnswer {
  status?: number;
  /** The socket closed (or was reset) without an HTTP answer. */
  closed: boolean;
  text: string;
  ms: number;
}

/** Sends bytes on a fresh socket and reads the answer until the server closes (or `timeoutMs`). */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      resolve({ status: status ? Number(status) : undefined, closed: closed && !status, text: text.slice(0, 4000), ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      // One answer is enough: stop once its body (content-length) is in.
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head))?.[1];
      if (head >= 0 && length !== undefined && Buffer.byteLength(text, 'latin1') >= head + 4 + Number(length)) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(bytes);
  });
}

/** An HTTP/1.1 request as bytes; `body` as given (a Buffer may be anything). */
export function request(method: string, target: string, port: number, headers: Record<string, string | number>, body?: Buffer | string): Buffer {
  const b = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close'];
  const all: Record<string, string | number> = body === undefined ? headers : { 'content-length': b.length, ...headers };
  for (const [k, v] of Object.entries(all)) lines.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), b]);
}

/** A zstd frame of RLE blocks: `bytes` of spaces from a few dozen KB, with no declared size. */
export function zstdBomb(bytes: number): Buffer {
  const block = 128 * 1024;
  const n = Math.ceil(bytes / block);
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  for (let i = 0; i < n; i++) {
    const v = (i === n - 1 ? 1 : 0) | (1 << 1) | (block << 3);
    parts.push(Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, 0x20]));
  }
  return Buffer.concat(parts);
}

/**
 * Every hostile case, for a gateway on `port` with admin `token` and one healthy account `h1`.
 * `heavy: false` leaves out the cases that cost seconds to build or send (`npm test` runs the rest).
 */
export function hostileCases(port: number, token: string, aigateHome: string, heavy = true): RawCase[] {
  const cases: RawCase[] = [];
  const json = { 'content-type': 'application/json' };
  const auth = { authorization: `Bearer ${token}` };
  const add = (name: string, bytes: Buffer) => cases.push({ name, bytes });
  const codexRoutes = ['/ai-router/api/responses', '/ai-router/api/v1/responses', '/ai-router/api/responses/compact', '/ai-router/api/accounts/h1/responses'];

  // Codex routes: bodies that must never reach an upstream.
  const bodies: [string, Buffer | string][] = [
    ['empty', ''],
    ['truncated JSON', '{"model":"gpt-5.1-codex","input":[{"type":"mess'],
    ['JSON array', '[1,2,3]'],
    ['JSON null', 'null'],
    ['JSON string', '"hello"'],
    ['trailing garbage', '{"model":"x"} trailing'],
    ['deep nesting', '['.repeat(200_000) + ']'.repeat(200_000)],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"model":"gpt-5.1-codex","input":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}')])],
    ['overlong UTF-8 slash', Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])],
    ['lone surrogate bytes', Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])],
    ['NUL bytes', Buffer.from('{"model":"\u0000\u0000"}\u0000')],
    ['random bytes', crypto.randomBytes(4096)],
  ];
  for (const route of codexRoutes) for (const [label, body] of bodies) add(`POST ${route}: ${label}`, request('POST', route, port, json, body));

  if (heavy) add('Codex route: body over 64 MiB', request('POST', codexRoutes[0]!, port, json, Buffer.alloc(65 * 1024 * 1024, 0x20)));
  add('Codex route: content-length says 10 GB', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 10737418240\r\n\r\n{}`));
  add('Codex route: zstd bomb (1 GB from 32 KB)', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'zstd' }, zstdBomb(1024 ** 3)));
  add('Codex route: zstd bomb (4 GB from 128 KB)', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'zstd' }, zstdBomb(4 * 1024 ** 3)));
  add('Codex route: zstd header claiming a 2 GB window', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'zstd' }, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00])));
  if (heavy) add('Codex route: gzip bomb (128 MB)', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'gzip' }, zlib.gzipSync(Buffer.alloc(1024 ** 3 / 8, 0x20), { level: 9 })));
  add('Codex route: not zstd at all', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'zstd' }, '{"model":"x"}'));
  add('Codex route: br garbage', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'br' }, crypto.randomBytes(512)));
  add('Codex route: unknown encoding', request('POST', codexRoutes[0]!, port, { ...json, 'content-encoding': 'x-evil' }, '{}'));
  add('Codex route: text/plain', request('POST', codexRoutes[0]!, port, { 'content-type': 'text/plain' }, '{}'));
  add('Codex route: no content-type', request('POST', codexRoutes[0]!, port, {}, '{}'));
  add('Codex route: Origin of a web page', request('POST', codexRoutes[0]!, port, { ...json, origin: 'https://evil.example' }, '{"model":"x"}'));
  add('Codex route: GET /responses', request('GET', codexRoutes[0]!, port, {}));
  add('Codex route: DELETE /models', request('DELETE', '/ai-router/api/models', port, {}));

  // Path traversal and odd names in the pinned-account route.
  for (const name of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '..', '%ZZ', '%E0%A4%A', '%00', 'a%0d%0aX-Injected:%201', 'x'.repeat(8_000), '%2Fetc%2Fpasswd', 'h1%00.json']) {
    add(`pinned account "${name.slice(0, 40)}"`, request('POST', `/ai-router/api/accounts/${name}/responses`, port, json, '{"model":"x"}'));
  }
  // Header-level attacks (Node's parser answers these itself).
  add('huge header (100 KB)', request('POST', codexRoutes[0]!, port, { ...json, 'x-big': 'a'.repeat(100_000) }, '{}'));
  add('10,000 headers', request('POST', codexRoutes[0]!, port, { ...json, ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`x-h${i}`, 'v'])) }, '{}'));
  add('CR inside a header value', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-a: one\rtwo\r\ncontent-length: 2\r\n\r\n{}`));
  add('LF-only line endings with injection', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\nhost: 127.0.0.1:${port}\nx-a: one\n two\ncontent-length: 2\n\n{}`));
  add('NUL in a header', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-a: a\u0000b\r\ncontent-length: 2\r\n\r\n{}`));
  add('CL + TE smuggling', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /aigate/api/status HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`));
  add('two content-lengths', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-length: 2\r\ncontent-length: 40\r\n\r\n{}`));
  add('bad chunk size', Buffer.from(`POST ${codexRoutes[0]} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`));
  add('garbage request line', Buffer.concat([crypto.randomBytes(64), Buffer.from('\r\n\r\n')]));
  add('HTTP/0.9', Buffer.from('GET /\r\n\r\n'));
  add('WebSocket upgrade', request('GET', '/ai-router/api/responses', port, { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' }));

  // The admin API: without a token, with a wrong Host, and with the token but hostile input.
  add('admin without token', request('GET', '/aigate/api/accounts', port, {}));
  add('admin with a DNS-rebound Host', Buffer.from(`GET /aigate/api/accounts HTTP/1.1\r\nhost: evil.example:${port}\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n\r\n`));
  const adminJson = { ...json, ...auth };
  const accountBodies: [string, unknown][] = [
    ['name with ../', { name: '../../etc/passwd', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
    ['name with /', { name: 'a/b', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
    ['name ..', { name: '..', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
    ['name with CR/LF', { name: 'a\r\nX-Injected: 1', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
    ['name with NUL', { name: 'a\u0000b', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
    ['name 10 KB', { name: 'n'.repeat(10_000), baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
    ['base URL file://', { name: 'f1', baseUrl: 'file:///etc/passwd', apiKey: apiKey('x') }],
    ['base URL javascript:', { name: 'f2', baseUrl: 'javascript:alert(1)', apiKey: apiKey('x') }],
    ['base URL ftp://', { name: 'f3', baseUrl: 'ftp://127.0.0.1/v1', apiKey: apiKey('x') }],
    ['base URL data:', { name: 'f4', baseUrl: 'data:text/plain,hi', apiKey: apiKey('x') }],
    ['base URL with CR/LF', { name: 'f5', baseUrl: 'http://127.0.0.1:1/v1\r\nHost: evil.example', apiKey: apiKey('x') }],
    ['base URL with a space', { name: 'f6', baseUrl: 'http://127.0.0.1:1/v1 HTTP/1.1', apiKey: apiKey('x') }],
    ['base URL with credentials', { name: 'f7', baseUrl: 'http://user:pass@127.0.0.1:1/v1', apiKey: apiKey('x') }],
    ['base URL with a query', { name: 'f8', baseUrl: 'http://127.0.0.1:1/v1?redirect=http://evil', apiKey: apiKey('x') }],
    ['base URL not a URL', { name: 'f9', baseUrl: 'not a url', apiKey: apiKey('x') }],
    ['API key with CR/LF', { name: 'k1', baseUrl: 'https://api.example.com/v1', apiKey: `${apiKey('x')}\r\nX-Injected: 1` }],
    ['API key empty', { name: 'k2', baseUrl: 'https://api.example.com/v1', apiKey: '   ' }],
    ['unknown field', { name: 'k3', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x'), admin: true }],
    ['__proto__', JSON.parse('{"__proto__":{"polluted":1},"name":"k4","baseUrl":"https://api.example.com/v1","apiKey":"sk-x"}')],
    ['wrong types', { name: 1, baseUrl: ['x'], apiKey: { a: 1 } }],
    ['existing name', { name: 'h1', baseUrl: 'https://api.example.com/v1', apiKey: apiKey('x') }],
  ];
  for (const [label, body] of accountBodies) add(`POST /aigate/api/accounts: ${label}`, request('POST', '/aigate/api/accounts', port, adminJson, JSON.stringify(body)));
  add('admin: malformed JSON', request('POST', '/aigate/api/accounts', port, adminJson, '{"name":'));
  add('admin: invalid UTF-8 name', request('POST', '/aigate/api/accounts', port, adminJson, Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","baseUrl":"https://a.example/v1","apiKey":"sk-x"}')])));
  add('admin: body over 256 KiB', request('POST', '/aigate/api/accounts', port, adminJson, JSON.stringify({ name: 'big', baseUrl: 'https://a.example/v1', apiKey: 'k'.repeat(300_000) })));
  add('admin: text/plain body', request('POST', '/aigate/api/accounts', port, { ...auth, 'content-type': 'text/plain' }, '{"name":"x"}'));
  add('admin: settings with strings', request('PATCH', '/aigate/api/settings', port, adminJson, '{"failover":"no","statsRetentionDays":1e12}'));
  add('admin: settings __proto__', request('PATCH', '/aigate/api/settings', port, adminJson, '{"__proto__":{"failover":false}}'));
  add('admin: order with an unknown name', request('POST', '/aigate/api/accounts/order', port, adminJson, '{"names":["h1","../x"]}'));
  for (const name of ['..%2F..%2Fetc', '%2e%2e', 'nope%0d%0aX:1', '%ZZ']) {
    add(`admin: use "${name}"`, request('POST', `/aigate/api/accounts/${name}/use`, port, adminJson, '{}'));
    add(`admin: delete "${name}"`, request('DELETE', `/aigate/api/accounts/${name}`, port, auth));
  }
  add('admin: import an auth file that is a device', request('POST', '/aigate/api/accounts/import', port, adminJson, JSON.stringify({ authFile: '/dev/zero' })));
  add('admin: import an auth file that is a directory', request('POST', '/aigate/api/accounts/import', port, adminJson, JSON.stringify({ authFile: '/etc' })));
  add('admin: import a file that is not JSON', request('POST', '/aigate/api/accounts/import', port, adminJson, JSON.stringify({ authFile: '/etc/hostname' })));
  add('admin: import a path through a file', request('POST', '/aigate/api/accounts/import', port, adminJson, JSON.stringify({ authFile: '/etc/hostname/x' })));
  add('admin: import the vault key file', request('POST', '/aigate/api/accounts/import', port, adminJson, JSON.stringify({ authFile: `${aigateHome}/data/secret.key` })));
  add('admin: import the admin token file', request('POST', '/aigate/api/accounts/import', port, adminJson, JSON.stringify({ authFile: `${aigateHome}/data/admin-token` })));
  for (const id of ['..%2F..%2Fdata%2Fstore.json', '%2e%2e%2f%2e%2e', '20260101-000000000-manual-zzzzzz', 'x'.repeat(500), '%00']) {
    add(`admin: backup diff "${id.slice(0, 40)}"`, request('GET', `/aigate/api/backups/${id}/diff`, port, auth));
    add(`admin: backup restore "${id.slice(0, 40)}"`, request('POST', `/aigate/api/backups/${id}/restore`, port, adminJson, '{}'));
  }
  const mcpBodies: [string, unknown][] = [
    ['name ../x', { name: '../x', command: 'npx' }],
    ['name with ]', { name: 'a]\n[evil', command: 'npx' }],
    ['name with CR/LF', { name: 'a\r\nb', command: 'npx' }],
    ['inline bearer token', { name: 'tok', url: 'https://mcp.example', bearer_token: apiKey('mcp') }],
    ['stdio + http', { name: 'mix', command: 'npx', url: 'https://mcp.example' }],
    ['no transport', { name: 'none' }],
  ];
  for (const [label, body] of mcpBodies) add(`POST /aigate/api/mcp: ${label}`, request('POST', '/aigate/api/mcp', port, adminJson, JSON.stringify(body)));
  for (const name of ['..%2Fdocs', '%2e%2e', 'a%0d%0ab']) {
    add(`admin: mcp edit "${name}"`, request('PUT', `/aigate/api/mcp/${name}`, port, adminJson, '{"command":"x"}'));
    add(`admin: skill install "${name}"`, request('POST', `/aigate/api/skills/${name}/install`, port, adminJson, '{}'));
    add(`admin: skill remove "${name}"`, request('DELETE', `/aigate/api/skills/${name}`, port, auth));
  }
  add('admin: proxy on with an unknown mode', request('POST', '/aigate/api/proxy/on', port, adminJson, '{"mode":"../../x"}'));
  add('admin: proxy diff with junk query', request('GET', '/aigate/api/proxy/diff?action=../../etc', port, auth));
  add('admin: login with a junk code', request('GET', '/aigate/login?code=..%2F..%2Fetc', port, {}));
  add('admin: page traversal', request('GET', '/aigate/..%2F..%2Fpackage.json', port, {}));
  add('admin: page traversal (raw)', Buffer.from(`GET /aigate/../../package.json HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`));
  return cases;
}

