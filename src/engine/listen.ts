// Binding a node:http(s) server to a configured `host:port`, shared by the admin API and the
// http source: one parser for the address, one wording for why a listen failed.

import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { VesError } from '../errors.js';

/** `host:port` -> its parts; brackets of an IPv6 host are removed. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(colon + 1)) };
}

/** For a config `check`: undefined when `s` is a host:port (port 0: any free port). */
export function checkHostPort(s: string): string | undefined {
  const colon = s.lastIndexOf(':');
  const port = Number(s.slice(colon + 1));
  // Port 0: any free port (the agent logs the one it got); tests use it.
  const ok = colon > 0 && /^\d+$/.test(s.slice(colon + 1)) && port >= 0 && port < 65536;
  return ok ? undefined : 'expected host:port, e.g. 127.0.0.1:8686';
}

/**
 * Listen on `address` (`what` names the config key in the error, e.g. `api.address`); rejects
 * with a VesError of `code` that says why in words. Resolves with the bound address.
 */
export function listen(
  server: Server,
  address: string,
  what: string,
  code: string,
): Promise<AddressInfo> {
  const { host, port } = splitAddress(address);
  return new Promise<AddressInfo>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is in use (another agent, or another program)'
          : err.code === 'EADDRNOTAVAIL'
            ? 'that address is not one of this machine'
            : err.code === 'EACCES'
              ? 'permission denied (ports below 1024 need privileges)'
              : err.message;
      reject(new VesError(code, `${what} ${address}: cannot listen: ${why}`, 1, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** `http(s)://host:port` of a bound address (IPv6 hosts in brackets). */
export function boundUrl(bound: AddressInfo, scheme: 'http' | 'https'): string {
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return `${scheme}://${shownHost}:${bound.port}`;
}
