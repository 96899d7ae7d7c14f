import { connect, createServer, type Server, type Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  subscriber: boolean;
  held: Buffer[];
}

/**
 * A TCP proxy in front of Redis that can hold the replies to command connections (not to
 * Pub/Sub subscribers, recognised by their SUBSCRIBE), so a test can make a read's reply arrive
 * after an invalidation; delay what subscribers receive, so invalidations arrive late; or delay
 * command connections both ways, as a distant Redis would.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private holding = false;
  /** Drops everything Redis sends to Pub/Sub subscribers (a black-holed link: no reply, no close). */
  blackholeSubscribers = false;
  /** Delay added to everything Redis sends to Pub/Sub subscribers (late invalidations). */
  subscriberDelayMs = 0;
  /** Delay added each way on command connections (a slow or distant Redis). */
  commandDelayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const ready: { proxy?: TcpProxy } = {};
    const server = createServer((client) => ready.proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address !== 'object') {
      throw new Error('proxy has no port');
    }
    ready.proxy = new TcpProxy(server, address.port);
    return ready.proxy;
  }

  /** Bytes of replies held back so far. */
  get heldBytes(): number {
    let total = 0;
    for (const link of this.links) {
      for (const chunk of link.held) {
        total += chunk.length;
      }
    }
    return total;
  }

  /** From now on, replies to command connections are held until `release()`. */
  hold(): void {
    this.holding = true;
  }

  /** Delivers every held reply, in order, and stops holding. */
  release(): void {
    this.holding = false;
    for (const link of this.links) {
      for (const chunk of link.held.splice(0)) {
        link.client.write(chunk);
      }
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    const link: Link = { client, upstream, subscriber: false, held: [] };
    this.links.add(link);
    client.on('data', (chunk) => {
      if (/SUBSCRIBE/i.test(chunk.toString('latin1'))) {
        link.subscriber = true;
      }
      if (!link.subscriber && this.commandDelayMs > 0) {
        setTimeout(() => upstream.write(chunk), this.commandDelayMs); // equal delays keep the order
      } else {
        upstream.write(chunk);
      }
    });
    upstream.on('data', (chunk) => {
      if (link.subscriber && this.blackholeSubscribers) {
        return;
      }
      if (this.holding && !link.subscriber) {
        link.held.push(chunk);
      } else if (link.subscriber && this.subscriberDelayMs > 0) {
        setTimeout(() => client.write(chunk), this.subscriberDelayMs); // equal delays keep the order
      } else if (!link.subscriber && this.commandDelayMs > 0) {
        setTimeout(() => client.write(chunk), this.commandDelayMs);
      } else {
        client.write(chunk);
      }
    });
    const close = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }
}
