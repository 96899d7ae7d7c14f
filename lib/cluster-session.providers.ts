import { Logger, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LocalCache } from './cache/local-cache';
import { CLUSTER_SESSION_CONFIGURED, CLUSTER_SESSION_OPTIONS } from './cluster-session.constants';
import { CLUSTER_SESSION_MODULE_OPTIONS } from './cluster-session.module-definition';
import { ClusterSessionRuntime } from './cluster-session.runtime';
import { ClusterSessionError } from './errors/cluster-session.error';
import { ClusterCoordinator } from './cluster/cluster-coordinator';
import { ClusterSessionHealthIndicator } from './health/cluster-session.health';
import { SessionCommitter } from './http/session-committer.service';
import { SessionLoadGuard } from './http/session-load.guard';
import { SessionCookieService } from './http/session-cookie.service';
import { SessionUnavailableFilter } from './http/session-unavailable.filter';
import { SessionMiddleware } from './http/session.middleware';
import type { ClusterSessionOptions } from './options/cluster-session-options.interface';
import { resolveOptions } from './options/resolve-options';
import { SessionStore } from './store/session-store';
import { SessionEvents } from './events/session-events';

const IMPORTED_WITHOUT_OPTIONS =
  'ClusterSessionModule is imported without options (imports: [ClusterSessionModule]). ' +
  'Register it once, in the root module, with ClusterSessionModule.forRoot({ secret, redis }) or ' +
  'forRootAsync({ ... }), and import it nowhere else: @Session() then works in every module; to ' +
  'inject SessionStore (or ClusterCoordinator, LocalCache, ClusterSessionHealthIndicator) in a ' +
  'feature module, pass isGlobal: true to forRoot/forRootAsync, or re-export the registered ' +
  'module from a module of your own';

/** What the module provides and exports (besides the global guard and filter). */
export const EXPORTED_PROVIDERS: Provider[] = [
  {
    provide: CLUSTER_SESSION_OPTIONS,
    useFactory: (configured: true | undefined, options: ClusterSessionOptions) => {
      if (configured === undefined) {
        throw new ClusterSessionError(IMPORTED_WITHOUT_OPTIONS);
      }
      return resolveOptions(options); // a forRootAsync factory that returned nothing: says so
    },
    // optional: the class imported as is (`imports: [ClusterSessionModule]`) has no options, and
    // gets an error that says what to write instead of Nest's "can't resolve dependencies"
    inject: [
      { token: CLUSTER_SESSION_CONFIGURED, optional: true },
      { token: CLUSTER_SESSION_MODULE_OPTIONS, optional: true },
    ],
  },
  {
    provide: ClusterSessionRuntime,
    useFactory: (options: ReturnType<typeof resolveOptions>) => new ClusterSessionRuntime(options),
    inject: [CLUSTER_SESSION_OPTIONS],
  },
  {
    provide: SessionStore,
    useFactory: (runtime: ClusterSessionRuntime) => runtime.store,
    inject: [ClusterSessionRuntime],
  },
  {
    provide: ClusterCoordinator,
    useFactory: (runtime: ClusterSessionRuntime) => runtime.coordinator,
    inject: [ClusterSessionRuntime],
  },
  {
    provide: SessionEvents,
    useFactory: (runtime: ClusterSessionRuntime) => runtime.events,
    inject: [ClusterSessionRuntime],
  },
  {
    provide: LocalCache,
    useFactory: (runtime: ClusterSessionRuntime) => runtime.cache,
    inject: [ClusterSessionRuntime],
  },
  SessionCookieService,
  ...healthProviders(),
];

export const INTERNAL_PROVIDERS: Provider[] = [
  SessionMiddleware,
  SessionCommitter,
  { provide: APP_GUARD, useClass: SessionLoadGuard },
  { provide: APP_FILTER, useClass: SessionUnavailableFilter },
];

/** The health indicator, when the optional peer `@nestjs/terminus` is installed. */
function healthProviders(): Provider[] {
  let terminus: typeof import('@nestjs/terminus');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    terminus = require('@nestjs/terminus');
  } catch (error) {
    // not installed: no indicator. Installed but failing to load: no indicator either (an app
    // that does not use it keeps working), and the reason is logged rather than left to a
    // "cannot resolve ClusterSessionHealthIndicator" later
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') {
      new Logger('ClusterSession').warn(
        `@nestjs/terminus is installed but does not load (${(error as Error).message}): ` +
          'ClusterSessionHealthIndicator is not provided',
      );
    }
    return [];
  }
  return [
    terminus.HealthIndicatorService,
    {
      provide: ClusterSessionHealthIndicator,
      useFactory: (
        runtime: ClusterSessionRuntime,
        health: InstanceType<typeof terminus.HealthIndicatorService>,
      ) => new ClusterSessionHealthIndicator(runtime, health),
      inject: [ClusterSessionRuntime, terminus.HealthIndicatorService],
    },
  ];
}
