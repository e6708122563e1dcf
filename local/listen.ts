import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening on 127.0.0.1 (any free port when none is given) and returns the port. */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
