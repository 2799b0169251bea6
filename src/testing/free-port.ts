import { createServer } from 'node:net';

/**
 * Finds a TCP port on 127.0.0.1 that nothing listens on right now.
 *
 * The port is released before returning, so another process could take it in between;
 * callers that spawn servers retry on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
