import { ConfigurableModuleBuilder } from '@nestjs/common';
import { CLUSTER_SESSION_CONFIGURED } from './cluster-session.constants';
import type { ClusterSessionOptions } from './options/cluster-session-options.interface';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: CLUSTER_SESSION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ClusterSessionOptions>({ moduleName: 'ClusterSession' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createClusterSessionOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    providers: [
      ...(definition.providers ?? []),
      { provide: CLUSTER_SESSION_CONFIGURED, useValue: true },
    ],
    global: extras.isGlobal,
  }))
  .build();
