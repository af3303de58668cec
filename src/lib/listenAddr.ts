// Listen addresses as go-livepeer's flags take them, and how to print one.
import { isIP } from 'node:net';
import { GatewayError } from './errors.ts';

export interface ListenAddr {
  host: string;
  port: number;
}

export class ListenAddrError extends GatewayError {}

/**
 * go-livepeer's address rules: ":1936" ⇒ 127.0.0.1:1936, a bare host ⇒ host:<default port>, "[::1]:80".
 * `name` is the flag, for the message.
 */
export function parseListenAddr(name: string, value: string, defaultPort: number): ListenAddr {
  let s = value.trim();
  if (!s) throw new ListenAddrError(`-${name} is empty`);
  if (s.startsWith(':')) s = `127.0.0.1${s}`;
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (isIP(s) === 6) {
    host = s;
  } else {
    const i = s.lastIndexOf(':');
    host = i >= 0 ? s.slice(0, i) : s;
    portText = i >= 0 ? s.slice(i + 1) : undefined;
  }
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!host || !/^\d*$/.test(portText ?? '') || !Number.isInteger(port) || port < 0) {
    throw new ListenAddrError(`-${name}: "${value}" is not host:port`);
  }
  if (port > 65535) throw new ListenAddrError(`-${name}: "${value}" is not host:port (port out of range 0-65535)`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Bracket IPv6 literals so `host:port` strings and URLs stay valid. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
