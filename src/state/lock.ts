// A per-container lock that the kernel releases when its holder dies, without libc: binding an
// abstract unix socket. The name is taken while the socket exists and freed when the process
// exits, however it exits — so a kill -9 never leaves a stale lock behind (unlike a lock file).

import * as net from 'node:net';
import { createHash } from 'node:crypto';
import * as path from 'node:path';

export async function withLock<T>(root: string, id: string, fn: () => Promise<T> | T, timeoutMs = 30000): Promise<T> {
  const name = '\0tsrunc-lock-' + createHash('sha256').update(path.resolve(root) + '\0' + id).digest('hex').slice(0, 32);
  const server = net.createServer();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', (e) => resolve(e as NodeJS.ErrnoException));
      server.listen({ path: name, exclusive: true }, () => resolve(null));
    });
    if (!err) break;
    if (err.code !== 'EADDRINUSE') throw new Error(`lock container ${id}: ${err.message}`);
    if (Date.now() > deadline) throw new Error(`lock container ${id}: another tsrunc command holds it`);
    await new Promise((r) => setTimeout(r, 5));
  }
  server.unref();
  try {
    return await fn();
  } finally {
    server.close();
  }
}
