// Loopback ports for servers a test starts (ClickHouse, the aggregator): never fixed numbers,
// so parallel test files and other sessions on the machine never collide.

import { createServer } from 'node:net';

/** A free loopback TCP port (the OS picks it; it is released again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
