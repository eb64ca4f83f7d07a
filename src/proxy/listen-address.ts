import net from 'node:net';
import { GatewayError } from './errors.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 6789;

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`, `:PORT` or `PORT`, and refuses anything that is not loopback. */
export function parseListen(value: string | undefined): ListenAddress {
  if (!value) return { host: DEFAULT_HOST, port: DEFAULT_PORT };
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d*)$/.exec(value.includes(':') || !/^\d+$/.test(value) ? value : `:${value}`);
  const host = m?.[1] ?? (m?.[2] || DEFAULT_HOST);
  const port = m?.[3] ? Number(m[3]) : DEFAULT_PORT;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GatewayError(400, `--listen "${value}" is not HOST:PORT (e.g. 127.0.0.1:6789)`);
  }
  checkLoopback(host);
  return { host, port };
}

/** AI Gate holds tokens that spend the user's quota: it never listens beyond this machine. */
export function checkLoopback(host: string): void {
  const loopback = host === 'localhost' || (net.isIPv4(host) && host.startsWith('127.')) || host === '::1';
  if (!loopback) {
    throw new GatewayError(400, `refusing to listen on ${host}: AI Gate listens on loopback only (127.0.0.1, ::1 or localhost), so no other machine can spend your quota`);
  }
}
