/**
 * One cluster node in its own process, driven by a parent test over IPC:
 * `node dist/test/support/cluster-node.js <redisUrl> <nodeId> [localCacheTtl]`.
 */
import { Logger } from '@nestjs/common';
import type { CopyResult, NodeMessage, NodeRequest, ReadResult } from './cluster-node.protocol';
import { startNode } from './cluster-fixture';

async function main(): Promise<void> {
  const [redisUrl, nodeId, localCacheTtl] = process.argv.slice(2);
  Logger.overrideLogger(['error']);
  const node = await startNode(redisUrl, {
    cluster: { nodeId, ...(localCacheTtl ? { localCacheTtl: Number(localCacheTtl) } : {}) },
  });
  // when each invalidation reached this process: the oracle's reference for "after it arrived"
  const received = new Map<string, number>();
  node.coordinator!.onEvent((event) => {
    if (event.type === 'flush') {
      return;
    }
    const version = event.type === 'destroy' ? Number.POSITIVE_INFINITY : event.version;
    for (const id of event.type === 'destroy' ? event.ids : [event.id]) {
      received.set(id, Math.max(version, received.get(id) ?? 0));
    }
  });

  const handle = async (request: NodeRequest): Promise<unknown> => {
    switch (request.op) {
      case 'create':
        return (await node.store.create(request.data)).id;
      case 'get': {
        const receivedBefore = received.get(request.id) ?? 0;
        const session = await node.store.get(request.id, { minVersion: request.minVersion });
        const result: ReadResult = {
          version: session?.version ?? 0,
          receivedBefore,
          data: session?.data ?? null,
        };
        return result;
      }
      case 'update': {
        const session = await node.store.get(request.id, { minVersion: request.minVersion });
        if (!session) {
          return 0;
        }
        if (request.value === null) {
          delete session.data[request.key];
        } else {
          session.data[request.key] = request.value;
        }
        if (request.user !== undefined) {
          session.setUser(request.user);
        }
        return (await node.store.save(session)) ? session.version : 0;
      }
      case 'destroy':
        return node.store.destroy(request.id);
      case 'regenerate':
        return (await node.store.regenerate(request.id))?.id ?? null;
      case 'cachedCopy': {
        const hits = node.store.cacheStats().hits;
        const session = await node.store.get(request.id);
        const copy: CopyResult | null =
          session && node.store.cacheStats().hits > hits
            ? { version: session.version, userId: session.userId, data: session.data }
            : null;
        return copy;
      }
      case 'stats':
        return {
          cache: node.store.cacheStats(),
          cluster: node.coordinator!.stats(),
          updatesApplied: node.store.updatesAppliedCount,
        };
      case 'resetStats':
        node.coordinator!.resetStats();
        node.store.resetCacheStats();
        return true;
      case 'writes': {
        const session = (await node.store.get(request.id))!;
        for (let i = 0; i < request.count; i++) {
          session.data.n = i;
          await node.store.save(session);
        }
        return request.count;
      }
      case 'reads': {
        let reads = 0;
        for (const deadline = Date.now() + request.ms; Date.now() < deadline; reads++) {
          // one read per turn of the event loop, as requests arriving over sockets would be
          await new Promise((resolve) => setImmediate(resolve));
          await node.store.get(request.ids[reads % request.ids.length]);
        }
        return reads;
      }
    }
  };

  const send = (message: NodeMessage) => process.send?.(message);
  process.on('message', (message: { seq: number; request: NodeRequest }) => {
    handle(message.request).then(
      (result) => send({ type: 'reply', seq: message.seq, ok: true, result }),
      (error: unknown) =>
        send({
          type: 'reply',
          seq: message.seq,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  process.once('disconnect', () => {
    void node.stop().finally(() => process.exit(0));
  });
  send({ type: 'ready', nodeId });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
