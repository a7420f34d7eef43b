import net from 'node:net';

/**
 * A loopback port a test holds for its whole run, in front of a server that comes and goes: while
 * the server is up, connections are forwarded to it; while it is down, they are reset at once, as
 * a client dialing a closed port sees it fail. A client keeps one address across restarts of the
 * server, and no other process can take that port between a stop and the next start (as it could
 * if the server closed its port and listened on the same number again).
 */
export class ForwardedPort {
  private target: number | undefined;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async open(): Promise<ForwardedPort> {
    const server = net.createServer();
    const forwarded = new ForwardedPort(server);
    server.on('connection', (socket) => forwarded.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return forwarded;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** From now on, new connections go to this port on 127.0.0.1. */
  forwardTo(port: number): void {
    this.target = port;
  }

  /** The server went away: open connections drop, new ones are reset. */
  refuse(): void {
    this.target = undefined;
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.refuse();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.target, '127.0.0.1');
    for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
      this.sockets.add(socket);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        other.end();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
