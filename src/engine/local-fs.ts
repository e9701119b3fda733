// Is a path on a local filesystem? The tailer's reads and the file sink's writes are done
// synchronously when small (a thread-pool round trip costs ~90 us of CPU on this project's VM,
// a page-cache copy ~5-10 us), but only where a syscall cannot wait on a network or on a FUSE
// daemon: a stalled mount must not block the event loop.

import { statfs } from 'node:fs/promises';

/**
 * statfs f_type of filesystems where a read or write may wait on the network (or on a FUSE
 * daemon): NFS, SMB, CIFS, SMB2, FUSE, Ceph, AFS, Coda, NCP, 9P, GFS2, OCFS2, Lustre.
 */
const NETWORK_FS = new Set([
  0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x65735546, 0x00c36400, 0x5346414f, 0x73757245, 0x564c,
  0x01021997, 0x01161970, 0x7461636f, 0x0bd00bd0,
]);

/**
 * True when `path` (on device `dev`) is on a local filesystem. One statfs per device, remembered
 * in `cache`; anything unknown or failing counts as remote.
 */
export async function isLocalFs(
  cache: Map<bigint | number, boolean>,
  dev: bigint | number,
  path: string,
): Promise<boolean> {
  let local = cache.get(dev);
  if (local === undefined) {
    try {
      local = !NETWORK_FS.has((await statfs(path)).type >>> 0);
    } catch {
      local = false;
    }
    cache.set(dev, local);
  }
  return local;
}
