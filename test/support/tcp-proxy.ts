import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to one command (see {@link TcpProxy.fault}):
 * - `drop-reply-and-close`: Redis runs it; its reply never reaches the client, whose connection
 *   is closed instead (a connection lost after Redis ran the command);
 * - `reset-before-send`: the connection is reset before the command reaches Redis (it never runs);
 * - `delay-reply`: Redis runs it; its reply, and every later one on that connection, arrives
 *   `ms` late (a reply slower than the client's timeout).
 */
export type CommandFault =
  | { kind: 'drop-reply-and-close' }
  | { kind: 'reset-before-send' }
  | { kind: 'delay-reply'; ms: number };

/** A command as sent: its name and arguments, as text. */
export type CommandMatcher = (args: string[]) => boolean;

interface ArmedFault {
  match: CommandMatcher;
  fault: CommandFault;
  left: number;
}

interface Link {
  client: Socket;
  upstream: Socket;
  subscriber: boolean;
  held: Buffer[];
  /** Bytes from the client not yet parsed into whole commands. */
  requests: Buffer;
  /** Bytes from Redis not yet parsed into whole replies. */
  replies: Buffer;
  /** The fault of each command forwarded and not yet answered, in order (undefined: none). */
  pending: (CommandFault | undefined)[];
  /** Replies waiting for their time, in order: none overtakes another. */
  outbox: { at: number; reply: Buffer }[];
  pumping: NodeJS.Timeout | undefined;
  closed: boolean;
}

/**
 * A TCP proxy in front of Redis that can hold the replies to command connections (not to
 * Pub/Sub subscribers, recognised by their SUBSCRIBE), so a test can make a read's reply arrive
 * after an invalidation; delay what subscribers receive, so invalidations arrive late; delay
 * command connections both ways, as a distant Redis would; inject a fault into chosen commands
 * (it reads the Redis protocol, so it knows which reply answers which command); and refuse new
 * connections, so that a client cut off cannot reconnect for a while.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private readonly faults: ArmedFault[] = [];
  private holding = false;
  /** Closes every new connection at once (a Redis that cannot be reached again yet). */
  refuseConnections = false;
  /** Drops everything Redis sends to Pub/Sub subscribers (a black-holed link: no reply, no close). */
  blackholeSubscribers = false;
  /** Delay added to everything Redis sends to Pub/Sub subscribers (late invalidations). */
  subscriberDelayMs = 0;
  /** Delay added each way on command connections (a slow or distant Redis). */
  commandDelayMs = 0;
  /** Faults injected so far. */
  faultsInjected = 0;

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

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
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

  /** Injects `fault` into the next `times` commands that `match` (on command connections). */
  fault(match: CommandMatcher, fault: CommandFault, times = 1): void {
    this.faults.push({ match, fault, left: times });
  }

  /** Faults armed and not yet injected. */
  get armedFaults(): number {
    return this.faults.reduce((sum, armed) => sum + armed.left, 0);
  }

  /** Forgets the faults not injected yet. */
  disarm(): void {
    this.faults.length = 0;
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
      this.drop(link);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.refuseConnections) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const link: Link = {
      client,
      upstream,
      subscriber: false,
      held: [],
      requests: Buffer.alloc(0),
      replies: Buffer.alloc(0),
      pending: [],
      outbox: [],
      pumping: undefined,
      closed: false,
    };
    this.links.add(link);
    client.on('data', (chunk) => this.fromClient(link, chunk));
    upstream.on('data', (chunk) => this.fromRedis(link, chunk));
    const close = () => this.drop(link);
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  }

  private fromClient(link: Link, chunk: Buffer): void {
    if (!link.subscriber && /SUBSCRIBE/i.test(chunk.toString('latin1'))) {
      link.subscriber = true;
      chunk = Buffer.concat([link.requests, chunk]);
      link.requests = Buffer.alloc(0);
    }
    if (link.subscriber) {
      link.upstream.write(chunk);
      return;
    }
    link.requests = Buffer.concat([link.requests, chunk]);
    let forward = 0;
    for (;;) {
      const parsed = parseCommand(link.requests, forward);
      if (!parsed) {
        break;
      }
      const fault = this.take(parsed.args);
      if (fault?.kind === 'reset-before-send') {
        this.send(link, link.requests.subarray(0, forward));
        link.client.resetAndDestroy();
        this.drop(link);
        return;
      }
      link.pending.push(fault);
      forward = parsed.end;
    }
    this.send(link, link.requests.subarray(0, forward));
    link.requests = link.requests.subarray(forward);
  }

  /** Forwards client bytes to Redis (late, with `commandDelayMs`). */
  private send(link: Link, bytes: Buffer): void {
    if (bytes.length === 0) {
      return;
    }
    const copy = Buffer.from(bytes);
    if (this.commandDelayMs > 0) {
      setTimeout(() => link.upstream.write(copy), this.commandDelayMs); // equal delays keep the order
    } else {
      link.upstream.write(copy);
    }
  }

  private fromRedis(link: Link, chunk: Buffer): void {
    if (link.subscriber) {
      if (link.replies.length > 0) {
        chunk = Buffer.concat([link.replies, chunk]);
        link.replies = Buffer.alloc(0);
      }
      if (this.blackholeSubscribers) {
        return;
      }
      if (this.subscriberDelayMs > 0) {
        setTimeout(() => link.client.write(chunk), this.subscriberDelayMs); // equal delays keep the order
      } else {
        link.client.write(chunk);
      }
      return;
    }
    link.replies = Buffer.concat([link.replies, chunk]);
    let start = 0;
    for (;;) {
      const end = replyEnd(link.replies, start);
      if (end === null) {
        break;
      }
      const reply = Buffer.from(link.replies.subarray(start, end));
      start = end;
      const fault = link.pending.shift();
      if (fault?.kind === 'drop-reply-and-close') {
        this.drop(link);
        return;
      }
      this.deliver(link, reply, fault?.kind === 'delay-reply' ? fault.ms : 0);
    }
    link.replies = link.replies.subarray(start);
  }

  /** One reply to the client: held, delayed, or now; never before a reply delayed earlier. */
  private deliver(link: Link, reply: Buffer, delayMs: number): void {
    if (this.holding) {
      link.held.push(reply);
      return;
    }
    const at = Date.now() + delayMs + this.commandDelayMs;
    if (link.outbox.length === 0 && delayMs + this.commandDelayMs === 0) {
      link.client.write(reply);
      return;
    }
    link.outbox.push({ at, reply });
    this.pump(link);
  }

  /** Sends the replies whose time has come, in order, and waits for the next one's. */
  private pump(link: Link): void {
    if (link.pumping !== undefined || link.closed) {
      return;
    }
    const now = Date.now();
    while (link.outbox.length > 0 && link.outbox[0].at <= now) {
      link.client.write(link.outbox.shift()!.reply);
    }
    if (link.outbox.length > 0) {
      link.pumping = setTimeout(() => {
        link.pumping = undefined;
        this.pump(link);
      }, link.outbox[0].at - now);
    }
  }

  private take(args: string[]): CommandFault | undefined {
    const armed = this.faults.find((candidate) => candidate.match(args));
    if (!armed) {
      return undefined;
    }
    if (--armed.left <= 0) {
      this.faults.splice(this.faults.indexOf(armed), 1);
    }
    this.faultsInjected++;
    return armed.fault;
  }

  private drop(link: Link): void {
    link.closed = true;
    clearTimeout(link.pumping);
    this.links.delete(link);
    link.client.destroy();
    link.upstream.destroy();
  }
}

/** One RESP command (an array of bulk strings) starting at `at`, or null when incomplete. */
function parseCommand(buffer: Buffer, at: number): { args: string[]; end: number } | null {
  const header = line(buffer, at);
  if (!header) {
    return null;
  }
  if (buffer[at] !== 0x2a /* '*' */) {
    // an inline command (not what clients send): forward it whole, as one argument
    return { args: [header.text], end: header.end };
  }
  const count = Number(header.text.slice(1));
  const args: string[] = [];
  let position = header.end;
  for (let i = 0; i < count; i++) {
    const size = line(buffer, position);
    if (!size) {
      return null;
    }
    const length = Number(size.text.slice(1));
    const end = size.end + length + 2;
    if (end > buffer.length) {
      return null;
    }
    args.push(buffer.toString('latin1', size.end, size.end + length));
    position = end;
  }
  return { args, end: position };
}

/** Where the RESP value starting at `at` ends, or null when incomplete. */
function replyEnd(buffer: Buffer, at: number): number | null {
  const header = line(buffer, at);
  if (!header) {
    return null;
  }
  const type = header.text[0];
  if (type === '$' || type === '=' || type === '!') {
    const length = Number(header.text.slice(1));
    if (length < 0) {
      return header.end;
    }
    const end = header.end + length + 2;
    return end <= buffer.length ? end : null;
  }
  if (type === '*' || type === '%' || type === '~' || type === '>') {
    const count = Number(header.text.slice(1)) * (type === '%' ? 2 : 1);
    let position: number | null = header.end;
    for (let i = 0; i < count && position !== null; i++) {
      position = replyEnd(buffer, position);
    }
    return position;
  }
  return header.end; // + - : _ , # (one line)
}

function line(buffer: Buffer, at: number): { text: string; end: number } | null {
  const end = buffer.indexOf('\r\n', at, 'latin1');
  return end < 0 ? null : { text: buffer.toString('latin1', at, end), end: end + 2 };
}
