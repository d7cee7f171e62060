import net from 'node:net';

export type ProxyMode = 'pass' | 'drop' | 'stall';

/**
 * A TCP proxy the test controls, between kiosks and the backend: `pass` forwards,
 * `drop` cuts every connection and refuses new ones, `stall` accepts and forwards
 * nothing (a hung network), until the mode changes.
 */
export class FaultProxy {
  #mode: ProxyMode = 'pass';
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {
    this.#server = net.createServer((client) => this.#onClient(client));
  }

  async start(port = 0): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(port, '127.0.0.1', () => r()));
    const a = this.#server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  mode(m: ProxyMode): void {
    this.#mode = m;
    if (m !== 'pass') for (const s of this.#sockets) s.destroy();
  }

  #onClient(client: net.Socket): void {
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => undefined);
    if (this.#mode === 'drop') {
      client.destroy();
      return;
    }
    if (this.#mode === 'stall') return; // hold it open, say nothing
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.#sockets.add(upstream);
    upstream.on('close', () => {
      this.#sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
