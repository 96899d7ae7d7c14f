import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportedNames } from '../test/support/exported-names';
import * as api from './index';

/** What the README documents; anything else exported is an internal that users would depend on. */
const VALUES = [
  'ClusterCoordinator',
  'ClusterSessionError',
  'ClusterSessionHealthIndicator',
  'ClusterSessionModule',
  'InjectSessionStore',
  'InvalidOptionsError',
  'InvalidSessionDataError',
  'LocalCache',
  'Session',
  'SessionHandle',
  'SessionLoadGuard',
  'SessionStore',
  'SessionStoreUnavailableError',
  'SessionTooLargeError',
  'SessionEvents',
  'TooManySessionsError',
].sort();
const TYPES = [
  'CacheStats',
  'ClusterOptions',
  'ClusterSessionOptions',
  'ClusterStats',
  'DestroyAllOptions',
  'ExpressSessionView',
  'RedisConnectionOption',
  'SessionCookie',
  'SessionCookieOptions',
  'SessionData',
  'SessionInfo',
  'SessionRecord',
  'ClientDescription',
  'MaxSessionsPerUser',
  'SessionEventsOptions',
  'SessionEndReason',
  'SessionEvent',
  'SessionsForUserOptions',
].sort();

describe('the public API (lib/index.ts)', () => {
  const source = readFileSync(join(__dirname, 'index.ts'), 'utf8');

  it('exports only what the README documents', () => {
    expect(source).not.toMatch(/export \*/);
    expect(exportedNames(source, 'value').sort()).toEqual(VALUES);
    expect(exportedNames(source, 'type').sort()).toEqual(TYPES);
    expect(Object.keys(api).sort()).toEqual(VALUES);
  });

  it.each(VALUES.concat(TYPES))('%s is tagged @publicApi where it is declared', (name) => {
    const from = [...source.matchAll(/export (?:type )?\{([^}]*)\} from '([^']+)'/g)].find(
      ([, list]) =>
        list.split(',').some(
          (entry) =>
            entry
              .trim()
              .split(/\s+as\s+/)
              .pop() === name,
        ),
    )![2];
    const declared = name === 'SessionRecord' ? 'Session' : name;
    const file = readFileSync(join(__dirname, `${from}.ts`), 'utf8');
    const declaration = new RegExp(
      `/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*(?:@\\w+\\([^)]*\\)\\s*)*export (?:abstract )?(?:class|const|interface|type|function) ${declared}\\b`,
    ).exec(file);
    expect(declaration?.[1]).toMatch(/@publicApi/);
  });
});
