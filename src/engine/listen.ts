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

/** Why a listen or bind failed, in words an operator can act on. */
export function whyNoListen(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'the port is in use (another agent, or another program)';
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return 'that address is not one of this machine';
    case 'EACCES':
      return 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    default:
      return err.message;
  }
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
      const why = whyNoListen(err);
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
