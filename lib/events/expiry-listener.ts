import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { closeRedis, connectRedis } from '../redis/redis-connection.factory';
import type { RedisConnection } from '../redis/redis-connection.interface';
import { isSessionId } from '../session/session-id.util';
import { SLOT_TAG_LENGTH } from '../store/session-keys';
import type { SessionEvents } from './session-events';

/**
 * `events.expired`: turns Redis keyspace notifications of expired session keys into `expired`
 * events, on a connection of its own (the cluster subscriber's heartbeat is left alone). Redis
 * sends them only with `notify-keyspace-events` including `E` and `x`, when it deletes the key
 * (on access, or by its background sweep: possibly well after the deadline), over Pub/Sub: at
 * most once, nothing while this connection is down.
 */
export class ExpiryListener {
  private readonly logger = new Logger('ClusterSession');
  private readonly channel: string;
  private stopped?: Promise<void>;
  private checked = false;
  private onSubscribed?: () => void;

  constructor(
    private readonly connection: RedisConnection,
    private readonly keyPrefix: string,
    private readonly events: SessionEvents,
  ) {
    const db = (connection.client as Redis).options.db ?? 0;
    this.channel = `__keyevent@${db}__:expired`;
  }

  /**
   * Connects and subscribes, waiting up to `subscribeTimeout` for it; when Redis cannot be
   * reached by then, it subscribes in the background once it can (and after every reconnect).
   */
  async start(subscribeTimeout: number): Promise<void> {
    const client = this.connection.client as Redis;
    client.on('message', this.handleMessage);
    client.on('error', this.handleError);
    client.on('ready', this.handleReady);
    const subscribed = new Promise<void>((resolve) => (this.onSubscribed = resolve));
    connectRedis(client).catch(() => undefined); // ioredis keeps retrying; 'ready' subscribes
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      subscribed.then(() => true),
      new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), subscribeTimeout)),
      ),
    ]);
    clearTimeout(timer);
    if (!ok) {
      this.logger.warn(
        `expired session events: not subscribed within ${subscribeTimeout} ms; subscribing in the background once Redis answers`,
      );
    }
  }

  private readonly handleReady = (): void => {
    const client = this.connection.client as Redis;
    void (async () => {
      // once, before the first SUBSCRIBE: on a subscribed connection only Pub/Sub commands run
      if (!this.checked) {
        this.checked = true;
        await this.checkServerConfig(client);
      }
      await client.subscribe(this.channel);
      this.onSubscribed?.();
    })().catch(() => undefined); // the connection broke: the next 'ready' tries again
  };

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const client = this.connection.client as Redis;
      client.off('message', this.handleMessage);
      client.off('ready', this.handleReady);
      await closeRedis(this.connection);
      client.off('error', this.handleError);
    })();
    return this.stopped;
  }

  /** Says so when Redis does not send the notifications (where the server lets us ask). */
  private async checkServerConfig(client: Redis): Promise<void> {
    let flags: string;
    try {
      const reply = (await client.call('CONFIG', 'GET', 'notify-keyspace-events')) as string[];
      flags = reply[1] ?? '';
    } catch {
      return; // CONFIG is often not allowed on managed Redis: nothing to check
    }
    const on = flags.includes('E') && (flags.includes('x') || flags.includes('A'));
    if (!on) {
      this.logger.warn(
        `events.expired is on but Redis sends no expiry notifications (notify-keyspace-events is "${flags}"): ` +
          'no expired event will come until it includes "Ex" (CONFIG SET notify-keyspace-events Ex)',
      );
    }
  }

  private readonly handleMessage = (channel: string, key: string): void => {
    if (channel !== this.channel || !key.startsWith(this.keyPrefix)) {
      return;
    }
    // <prefix>{<tag>}<id>: other keys under the prefix (indexes, destroy records) are not sessions
    const rest = key.slice(this.keyPrefix.length);
    const id = rest.slice(SLOT_TAG_LENGTH + 2);
    if (rest === `{${id.slice(0, SLOT_TAG_LENGTH)}}${id}` && isSessionId(id)) {
      this.events.emit({ type: 'expired', id });
    }
  };

  private readonly handleError = (): void => {
    // ioredis reconnects and resubscribes by itself; expiries meanwhile are not reported
  };
}
