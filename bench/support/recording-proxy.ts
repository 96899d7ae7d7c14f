import { connect, createServer, type Server, type Socket } from 'node:net';

/** What one client connection sent through the proxy, and where the recording window lies in it. */
interface Connection {
  chunks: Buffer[];
  bytes: number;
  /** Bytes sent before the window. */
  from?: number;
}

/** One command as a client sent it: its bytes in the connection's stream and its arguments. */
interface Command {
  start: number;
  end: number;
  args: Buffer[];
}

export interface Recording {
  /** Per command connection that sent something in the window: its commands there, raw RESP. */
  streams: Buffer[];
  /** Commands in the window, over all command connections. */
  commands: number;
  /** Connections that subscribed (the nodes' Pub/Sub subscribers): not recorded. */
  subscribers: number;
  /** The first subscriber's SUBSCRIBE commands, raw, for the replay's own subscribers. */
  subscribe: Buffer | null;
  /** The protocol the command connections asked for: 3 after `HELLO 3`, as ioredis 6 does. */
  protocol: 2 | 3;
  /** Lua bodies the clients sent (EVAL, SCRIPT LOAD): the replay's EVALSHAs need them loaded. */
  scripts: string[];
}

const SUBSCRIBE = new Set(['subscribe', 'psubscribe', 'ssubscribe']);

/**
 * A TCP proxy in front of one redis-server that keeps every byte its clients send. Between
 * `begin()` and `end()` (called while no request is in flight, so both fall between commands)
 * it yields the command streams the clients really sent: what Redis would have to serve.
 */
export class RecordingProxy {
  private readonly connections: Connection[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(upstreamPort: number): Promise<RecordingProxy> {
    const proxy = new RecordingProxy(
      createServer((client) => {
        const connection: Connection = { chunks: [], bytes: 0 };
        proxy.connections.push(connection);
        const upstream = connect(upstreamPort, '127.0.0.1');
        for (const socket of [client, upstream]) {
          socket.setNoDelay(true);
          proxy.sockets.add(socket);
          socket.on('close', () => proxy.sockets.delete(socket));
        }
        client.on('data', (chunk) => {
          connection.chunks.push(chunk);
          connection.bytes += chunk.length;
          upstream.write(chunk);
        });
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('error', () => undefined);
        upstream.on('error', () => undefined);
      }),
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const address = this.server.address();
    return `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  begin(): void {
    this.connections.forEach((connection) => (connection.from = connection.bytes));
  }

  end(): Recording {
    const recording: Recording = {
      streams: [],
      commands: 0,
      subscribers: 0,
      subscribe: null,
      protocol: 2,
      scripts: [],
    };
    const protocols = new Set<number>();
    for (const connection of this.connections) {
      const bytes = Buffer.concat(connection.chunks);
      const commands = parseCommands(bytes);
      const name = (command: Command) => command.args[0].toString().toLowerCase();
      for (const command of commands) {
        if (name(command) === 'eval') {
          recording.scripts.push(command.args[1].toString());
        } else if (name(command) === 'script' && /^load$/i.test(command.args[1].toString())) {
          recording.scripts.push(command.args[2].toString());
        }
      }
      if (commands.some((command) => SUBSCRIBE.has(name(command)))) {
        recording.subscribers++;
        const subscribe = commands.filter((command) => SUBSCRIBE.has(name(command)));
        recording.subscribe ??= Buffer.concat(
          subscribe.map(({ start, end }) => bytes.subarray(start, end)),
        );
        continue;
      }
      const from = connection.from ?? 0; // opened during the window: all of it counts
      const to = bytes.length;
      const window = commands.filter(({ start }) => start >= from && start < to);
      if (window.length === 0) {
        continue;
      }
      if (window[0].start !== from || window[window.length - 1].end !== to) {
        throw new Error('recording proxy: the window does not fall between commands');
      }
      const hello = commands.find((command) => name(command) === 'hello');
      protocols.add(hello ? Number(hello.args[1]) : 2);
      recording.streams.push(bytes.subarray(from, to));
      recording.commands += window.length;
    }
    if (protocols.size > 1) {
      throw new Error('recording proxy: the command connections speak different protocols');
    }
    recording.protocol = protocols.has(3) ? 3 : 2;
    recording.scripts = [...new Set(recording.scripts)];
    return recording;
  }

  /** Stops listening and cuts the connections still open (clients close theirs first). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.sockets.forEach((socket) => socket.destroy());
    await closed;
  }
}

/** Splits what a client sent into commands: RESP arrays of bulk strings, as every client sends. */
export function parseCommands(bytes: Buffer): Command[] {
  const commands: Command[] = [];
  let pos = 0;
  const line = () => {
    const cr = bytes.indexOf('\r\n', pos);
    const value = Number(bytes.toString('latin1', pos + 1, cr));
    pos = cr + 2;
    return value;
  };
  while (pos < bytes.length) {
    const start = pos;
    if (bytes[pos] !== 0x2a /* '*' */) {
      throw new Error(`recording proxy: not a RESP command at byte ${pos}`);
    }
    const args: Buffer[] = [];
    for (let count = line(); args.length < count;) {
      const length = line();
      args.push(bytes.subarray(pos, pos + length));
      pos += length + 2;
    }
    commands.push({ start, end: pos, args });
  }
  return commands;
}
