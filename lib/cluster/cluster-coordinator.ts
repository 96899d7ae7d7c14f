import { createHash, randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { closeRedis, connectRedis } from '../redis/redis-connection.factory';
import type { RedisConnection } from '../redis/redis-connection.interface';
import {
  encodeClusterMessage,
  claimedOrigin,
  parseClusterMessage,
  type Announcement,
  type MessageOrigin,
} from './cluster-message';
import type { ClusterEvent, ClusterStats } from './cluster-stats.interface';
import { LagRecorder } from './lag-recorder';
import { MessageAuthenticator } from './message-auth';
import { NO_PUBLISHER, type Publisher, type PublishHeader } from './publisher.interface';
import { SequenceTracker } from './sequence-tracker';

export interface ClusterCoordinatorOptions {
  channel: string;
  /** The store's key prefix: part of what messages are authenticated for. */
  keyPrefix: string;
  nodeId: string;
  secrets: readonly string[];
  subscribeTimeout: number;
  heartbeatInterval: number;
  /**
   * How long a missing sequence number may be awaited before it counts as lost: 0 where one
   * Redis delivers an origin's messages in order; above 0 on Redis Cluster, where they may
   * arrive out of order.
   */
  reorderWindowMs?: number;
  /**
   * `'update'`: a save's message carries what it wrote; `'invalidate'`: only that it wrote
   * (`cluster.propagation`).
   */
  propagation: 'update' | 'invalidate';
  /** An update message longer than this travels as an invalidation (`cluster.maxUpdateBytes`). */
  maxUpdateBytes: number;
}

/** Hex digits of the fleet tag in each epoch. */
const FLEET_TAG_LENGTH = 8;
/** How long after the last message that cannot be verified the cache stays untrusted, ms. */
const DISTRUST_MS = 1_000;
const UNVERIFIED_WARNING_INTERVAL_MS = 60_000;

/**
 * Keeps this node's cache safe to read. Listens on the invalidation channel over a dedicated
 * subscriber connection, and trusts the cache only while the subscription is up and the
 * heartbeat (a PING on that connection, answered in order after every earlier message)
 * answers in time. Losing or regaining trust, a gap in an origin's sequence, or a clear all
 * bump `generation`, which the store compares synchronously before serving a cached copy.
 *
 * A node with `cluster.enabled: false` has one too, disabled (no subscriber connection):
 * `enabled` is false, its writes publish nothing, and only its own flushes (a `clear`) change
 * `generation`; with no other node to hear from, its cache is always trusted.
 *
 * @publicApi
 */
export class ClusterCoordinator implements Publisher {
  /** False on a node without Pub/Sub (`cluster.enabled: false`). */
  readonly enabled: boolean;
  /**
   * Random per process start, then this fleet's tag (a hash of the channel and key prefix, not
   * a secret): a message whose MAC fails but that carries the tag comes from a node of this
   * app with other secrets, not from another app sharing the channel.
   */
  readonly epoch: string;
  private readonly fleetTag: string;
  private readonly logger = new Logger('ClusterSession');
  private readonly auth: MessageAuthenticator;
  private readonly sequences: SequenceTracker;
  private readonly lag = new LagRecorder();
  private readonly listeners = new Set<(event: ClusterEvent) => void>();
  private readonly lagListeners = new Set<(lagMs: number) => void>();
  private seq = 0;
  private generationNumber = 0;
  private connectionSeq = 0;
  private subscribed = false;
  private heartbeatOk = true;
  private pingPending = false;
  private heartbeat?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private started?: Promise<void>;
  private stopped?: Promise<void>;
  private onSubscribed?: () => void;
  private readonly counters = { sent: 0, received: 0, ignored: 0, unverified: 0, flushes: 0 };
  /** Until then (performance.now()) the cache is not trusted: messages came that could not be verified. */
  private distrustUntil = 0;
  private distrustTimer?: NodeJS.Timeout;
  private lastUnverifiedWarning = Number.NEGATIVE_INFINITY;

  /** `subscriber` null: disabled (see above). */
  constructor(
    private readonly subscriber: RedisConnection | null,
    private readonly options: ClusterCoordinatorOptions,
  ) {
    this.enabled = subscriber !== null;
    this.fleetTag = createHash('sha256')
      .update(JSON.stringify(['fleet', options.channel, options.keyPrefix]))
      .digest('hex')
      .slice(0, FLEET_TAG_LENGTH);
    this.epoch = randomBytes(8).toString('hex') + this.fleetTag;
    this.auth = new MessageAuthenticator(options.secrets, options);
    this.sequences = new SequenceTracker(options.reorderWindowMs);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Changes whenever cached copies must no longer be served. */
  get generation(): number {
    return this.generationNumber;
  }

  /** True while the local cache may be served. */
  isTrusted(): boolean {
    return (
      !this.enabled ||
      (this.subscribed &&
        this.heartbeatOk &&
        this.stopped === undefined &&
        performance.now() >= this.distrustUntil)
    );
  }

  /** Called with the propagation lag (ms) of every valid message from another node. */
  onLag(listener: (lagMs: number) => void): () => void {
    this.lagListeners.add(listener);
    return () => this.lagListeners.delete(listener);
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Numbers and signs the message of the next write (and its no-op, published instead when the
   * write changes nothing). A save's change travels only in `'update'` propagation and when its
   * message fits `maxUpdateBytes`; otherwise the save announces its version alone.
   * Alternatives share the number (the script publishes one of them).
   */
  announce(
    announcement: Announcement,
    alternatives: readonly Announcement[] = [],
  ): PublishHeader & { alternatives: string[] } {
    if (!this.enabled) {
      return NO_PUBLISHER.announce(announcement, alternatives);
    }
    this.counters.sent++;
    const { channel, nodeId } = this.options;
    const from = { origin: nodeId, epoch: this.epoch, seq: ++this.seq, sentAt: Date.now() };
    const noop = encodeClusterMessage({ kind: 'noop' }, from, this.auth);
    return Object.assign([channel, this.message(announcement, from, noop), noop] as const, {
      alternatives: alternatives.map((other) => this.message(other, from, noop)),
    });
  }

  private message(announcement: Announcement, from: MessageOrigin, noop: string): string {
    if (announcement.kind === 'noop') {
      return noop;
    }
    if (announcement.kind === 'update') {
      const { propagation, maxUpdateBytes } = this.options;
      const message =
        propagation === 'update' && encodeClusterMessage(announcement, from, this.auth);
      if (message && Buffer.byteLength(message) <= maxUpdateBytes) {
        return message;
      }
      const { id, version } = announcement;
      announcement = { kind: 'invalidate', id, version };
    }
    return encodeClusterMessage(announcement, from, this.auth);
  }

  /** Drops every cached copy on this node now (a local `clear`). */
  flush(reason: string, cleared = false): void {
    this.generationNumber++;
    this.counters.flushes++;
    this.emit({ type: 'flush', reason, cleared });
  }

  /**
   * Connects and subscribes, waiting up to `subscribeTimeout`. When the subscription does not
   * come in time the node runs with its cache untrusted (every read goes to Redis) and trusts
   * it once subscribed. Idempotent.
   */
  start(): Promise<void> {
    this.started ??= this.subscriber ? this.doStart(this.subscriber) : Promise.resolve();
    return this.started;
  }

  /** Unsubscribes and closes the subscriber connection. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.subscriber ? this.doStop(this.subscriber) : Promise.resolve();
    return this.stopped;
  }

  stats(): ClusterStats {
    return {
      nodeId: this.options.nodeId,
      epoch: this.epoch,
      subscribed: this.subscribed,
      trusted: this.isTrusted(),
      ...this.counters,
      lagMs: this.lag.stats(),
    };
  }

  /** Sets the message counters back to zero and forgets the lag samples. */
  resetStats(): void {
    Object.assign(this.counters, { sent: 0, received: 0, ignored: 0, unverified: 0, flushes: 0 });
    this.lag.reset();
  }

  private async doStart(subscriber: RedisConnection): Promise<void> {
    const { client } = subscriber;
    client.on('ready', this.handleReady);
    client.on('close', this.handleClose);
    client.on('message', this.handleMessage);
    client.on('error', this.handleError);
    this.heartbeat = setInterval(this.tick, this.options.heartbeatInterval);
    const subscribed = new Promise<void>((resolve) => (this.onSubscribed = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>(
      (resolve) => (timer = setTimeout(() => resolve(false), this.options.subscribeTimeout)),
    );
    connectRedis(client).catch(() => undefined); // failures surface as 'error'; ioredis keeps retrying
    const ok = await Promise.race([subscribed.then(() => true), timeout]);
    clearTimeout(timer);
    if (!ok) {
      this.logger.warn(
        `not subscribed to "${this.options.channel}" within ${this.options.subscribeTimeout} ms ` +
          '(option cluster.subscribeTimeout): serving every read from Redis until the subscription is up',
      );
    }
  }

  private async doStop(subscriber: RedisConnection): Promise<void> {
    clearTimeout(this.distrustTimer);
    clearInterval(this.heartbeat);
    clearTimeout(this.pingTimer);
    this.subscribed = false;
    this.connectionSeq++;
    const { client } = subscriber;
    client.off('ready', this.handleReady);
    client.off('close', this.handleClose);
    client.off('message', this.handleMessage);
    // No UNSUBSCRIBE first: closing the connection ends the subscription, and an UNSUBSCRIBE
    // caught by an outage would wait in the subscriber's offline queue, and shutdown with it.
    await closeRedis(subscriber);
    client.off('error', this.handleError);
  }

  private readonly handleReady = (): void => {
    const connection = ++this.connectionSeq;
    this.subscriber!.client.subscribe(this.options.channel).then(
      () => {
        if (connection !== this.connectionSeq || this.stopped) {
          return;
        }
        // messages before this point may be lost: start every sequence anew, drop the cache, trust it
        this.sequences.reset();
        this.subscribed = true;
        this.heartbeatOk = true;
        this.flush('subscribed');
        this.logger.log(`subscribed to "${this.options.channel}" as ${this.options.nodeId}`);
        this.onSubscribed?.();
      },
      () => undefined, // the connection broke; 'close' and the next 'ready' handle it
    );
  };

  private readonly handleClose = (): void => {
    this.connectionSeq++;
    this.pingPending = false;
    clearTimeout(this.pingTimer);
    if (!this.subscribed) {
      return;
    }
    this.subscribed = false;
    this.flush('subscriber disconnected');
    this.logger.warn(
      'subscriber connection lost: serving every read from Redis until resubscribed',
    );
  };

  private readonly handleError = (error: Error): void => {
    // ioredis reports every failed reconnect; 'close' already made the cache untrusted
    if (this.subscribed) {
      this.logger.warn(`subscriber connection error: ${error.message}`);
    }
  };

  /**
   * One PING at a time on the subscriber connection. Its reply comes after every message
   * published before it, so a reply within `heartbeatInterval` shows the link is fresh: only
   * that restores trust. No reply by then, a rejected PING (a `commandTimeout` below the
   * interval) or a late reply leaves the cache untrusted (G4); a late reply only lets the next
   * PING go.
   */
  private readonly tick = (): void => {
    if (this.subscribed && this.sequences.expired()) {
      this.flush('sequence gap (overdue)');
    }
    if (!this.subscribed || this.pingPending) {
      return;
    }
    this.pingPending = true;
    const connection = this.connectionSeq;
    const sentAt = performance.now();
    const missed = () => {
      if (connection !== this.connectionSeq || !this.heartbeatOk) {
        return;
      }
      this.heartbeatOk = false;
      this.flush('missed heartbeat');
      this.logger.warn(
        `heartbeat not answered within ${this.options.heartbeatInterval} ms: serving every read from Redis until it is`,
      );
    };
    const timer = setTimeout(missed, this.options.heartbeatInterval);
    this.pingTimer = timer;
    this.subscriber!.client.ping().then(
      () => {
        clearTimeout(timer);
        this.pingPending = false;
        if (connection !== this.connectionSeq) {
          return;
        }
        if (performance.now() - sentAt > this.options.heartbeatInterval) {
          return missed();
        }
        if (this.heartbeatOk) {
          return;
        }
        this.heartbeatOk = true;
        this.flush('heartbeat answered');
      },
      () => {
        clearTimeout(timer);
        this.pingPending = false;
        missed();
      },
    );
  };

  /** Whether a message that failed verification names this fleet (see `epoch`). */
  private isFromThisFleet(raw: string): boolean {
    if (!raw.startsWith('ncs3|')) {
      return false;
    }
    const epoch = raw.split('|', 6)[5] ?? '';
    return epoch.length === 16 + FLEET_TAG_LENGTH && epoch.endsWith(this.fleetTag);
  }

  /**
   * A node of this app wrote something this node cannot verify, so cannot apply: its copies
   * may be stale. Dropped now, and none served until such messages have stopped for a while
   * (then dropped again); said loudly, at most once a minute.
   */
  private unverifiable(raw: string): void {
    this.counters.unverified++;
    this.flush('a message that cannot be verified');
    this.distrustUntil = performance.now() + DISTRUST_MS;
    clearTimeout(this.distrustTimer);
    this.distrustTimer = setTimeout(() => this.flush('messages verify again'), DISTRUST_MS);
    this.distrustTimer.unref?.();
    if (performance.now() - this.lastUnverifiedWarning >= UNVERIFIED_WARNING_INTERVAL_MS) {
      this.lastUnverifiedWarning = performance.now();
      const origin = claimedOrigin(raw);
      this.logger.warn(
        `messages on "${this.options.channel}" from node ${origin} cannot be verified with this node's secret(s): that node signs with a secret this node does not have (a secret rotation deployed in the wrong order, or a different secret). Until they stop, this node serves nothing from its cache (${this.counters.unverified} so far). To rotate: add the new secret as the last one on every node, then make it the first, then drop the old one (README, "Secret rotation")`,
      );
    }
  }

  private readonly handleMessage = (channel: string, raw: string): void => {
    if (channel !== this.options.channel) {
      return;
    }
    this.counters.received++;
    const message = parseClusterMessage(raw, this.auth);
    if (!message) {
      this.counters.ignored++;
      if (this.isFromThisFleet(raw)) {
        this.unverifiable(raw);
      }
      return;
    }
    const own = message.origin === this.options.nodeId && message.epoch === this.epoch;
    if (!own) {
      const lagMs = performance.timeOrigin + performance.now() - message.sentAt;
      this.lag.record(lagMs);
      for (const listener of this.lagListeners) {
        listener(lagMs);
      }
      if (this.sequences.observe(message.origin, message.epoch, message.seq) === 'gap') {
        this.flush(`sequence gap from ${message.origin}`);
      }
    }
    switch (message.kind) {
      case 'update':
        this.emit({ type: 'update', ...message, own });
        break;
      case 'invalidate':
        this.emit({ type: 'invalidate', id: message.id, version: message.version, own });
        break;
      case 'destroy':
        this.emit({ type: 'destroy', ids: message.ids, own });
        break;
      case 'clear':
        if (!own) {
          this.flush(`clear from ${message.origin}`, true);
        }
        break;
      case 'noop':
        break;
    }
  };

  private emit(event: ClusterEvent): void {
    for (const listener of this.listeners) {
      listener(event);
    }
  }
}
