import type { Cluster, Redis } from 'ioredis';
import { PRELUDE } from './scripts/prelude.lua';
import { READ } from './scripts/read.lua';
import { SAVE } from './scripts/save.lua';
import { TOUCH } from './scripts/touch.lua';
import { DESTROY } from './scripts/destroy.lua';
import { REGENERATE } from './scripts/regenerate.lua';
import { INDEX_ADD, INDEX_LIST } from './scripts/user-index.lua';
import { PUBLISH } from './scripts/publish.lua';
import { MIGRATE_LEGACY } from './scripts/migrate-legacy.lua';

type Arg = string | number | Buffer;

/** The session scripts as commands (EVALSHA, falling back to EVAL after a Redis restart). */
export interface SessionScripts {
  ncsRead(key: string): Promise<unknown>;
  ncsSave(key: string, ...args: Arg[]): Promise<unknown>;
  ncsTouch(key: string, ...args: Arg[]): Promise<unknown>;
  ncsDestroy(key: string, ...args: Arg[]): Promise<unknown>;
  ncsRegenerate(oldKey: string, newKey: string, ...args: Arg[]): Promise<unknown>;
  ncsIndexAdd(indexKey: string, ...args: Arg[]): Promise<unknown>;
  ncsIndexList(indexKey: string): Promise<unknown>;
  ncsPublish(...args: Arg[]): Promise<unknown>;
  ncsMigrateLegacy(legacyKey: string, ...args: Arg[]): Promise<unknown>;
}

/** The scripts that take a publish header run `guarded` (see the prelude): a failure still publishes. */
const publishing = (lua: string) => `return guarded(function()\n${lua}\nend)`;

const SCRIPTS: Record<keyof SessionScripts, { numberOfKeys: number; lua: string }> = {
  ncsRead: { numberOfKeys: 1, lua: READ },
  ncsSave: { numberOfKeys: 1, lua: publishing(SAVE) },
  ncsTouch: { numberOfKeys: 1, lua: TOUCH },
  ncsDestroy: { numberOfKeys: 1, lua: publishing(DESTROY) },
  ncsRegenerate: { numberOfKeys: 2, lua: publishing(REGENERATE) },
  ncsIndexAdd: { numberOfKeys: 1, lua: INDEX_ADD },
  ncsIndexList: { numberOfKeys: 1, lua: INDEX_LIST },
  ncsPublish: { numberOfKeys: 0, lua: publishing(PUBLISH) },
  ncsMigrateLegacy: { numberOfKeys: 1, lua: MIGRATE_LEGACY },
};

/** Registers the session scripts on a client (idempotent) and returns it typed with them. */
export function defineSessionScripts(client: Redis | Cluster): SessionScripts {
  const registered = client as unknown as Partial<SessionScripts>;
  for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS)) {
    if (typeof registered[name as keyof SessionScripts] !== 'function') {
      client.defineCommand(name, { numberOfKeys, lua: PRELUDE + lua });
    }
  }
  return client as unknown as SessionScripts;
}
