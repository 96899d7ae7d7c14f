import { Controller, Get, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClusterSessionModule,
  InvalidOptionsError,
  Session,
  SessionStore,
  type ClusterSessionOptions,
  type SessionHandle,
} from '../../lib';
import { RedisServer } from '../../sample/support/redis-server';
import { TEST_SECRET } from '../support/cluster-fixture';
import { logsOf } from '../support/logs';

@Controller()
class CartController {
  @Get('cart')
  cart(@Session() session: SessionHandle<{ cart?: string[] }>) {
    return { cart: session.get('cart') ?? [] };
  }
}

/** The package's @Session() in an app that never imported ClusterSessionModule. */
@Module({ controllers: [CartController] })
class ForgotTheModule {}

describe('#25 errors that say what to add', () => {
  it('@Session() without ClusterSessionModule: the error names the module to import', async () => {
    const app = await NestFactory.create(ForgotTheModule, { logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    try {
      let status = 0;
      const logged = await logsOf(async () => {
        status = (await fetch(`${await app.getUrl()}/cart`)).status;
      });
      expect(status).toBe(500);
      expect(logged.join('\n')).toMatch(
        /@Session\(\) found no session on this request: import ClusterSessionModule\.forRoot/,
      );
      expect(logged.join('\n')).not.toMatch(/Cannot read properties of undefined/);
    } finally {
      await app.close();
    }
  });

  describe('SessionStore in a feature module', () => {
    let server: RedisServer;

    beforeAll(async () => {
      server = await RedisServer.start();
    });

    afterAll(async () => {
      await server.dispose();
    });

    @Controller()
    class DevicesController {
      constructor(private readonly sessions: SessionStore) {}

      @Get('devices')
      async devices() {
        return { sessions: await this.sessions.listForUser('nobody') };
      }
    }

    it('imports: [ClusterSessionModule] (the class, no options): the error says to register it once with forRoot and isGlobal', async () => {
      @Module({ imports: [ClusterSessionModule], controllers: [DevicesController] })
      class DevicesModule {}
      @Module({
        imports: [
          ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url }),
          DevicesModule,
        ],
      })
      class AppModule {}

      const failure = await startupFailure(AppModule);
      expect(failure?.message).toMatch(
        /^ClusterSessionModule is imported without options \(imports: \[ClusterSessionModule\]\)\. Register it once, in the root module, with ClusterSessionModule\.forRoot/,
      );
      expect(failure?.message).toMatch(/pass isGlobal: true/);
      expect(failure?.message).not.toMatch(/CLUSTER_SESSION_MODULE_OPTIONS/);
    });

    it('a forRootAsync factory that returns nothing is told so, not that the module lacks forRoot', async () => {
      @Module({
        imports: [
          ClusterSessionModule.forRootAsync({
            useFactory: () => undefined as unknown as ClusterSessionOptions, // a forgotten return
          }),
        ],
      })
      class AppModule {}

      const failure = await startupFailure(AppModule);
      expect(failure).toBeInstanceOf(InvalidOptionsError);
      expect(failure?.message).toMatch(
        /^Invalid option options: got undefined; expected an object/,
      );
    });

    it('isGlobal: true: a feature module that imports nothing injects SessionStore', async () => {
      @Module({ controllers: [DevicesController] })
      class DevicesModule {}
      @Module({
        imports: [
          ClusterSessionModule.forRoot({ secret: TEST_SECRET, redis: server.url, isGlobal: true }),
          DevicesModule,
        ],
      })
      class AppModule {}

      const app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
      try {
        const response = await fetch(`${await app.getUrl()}/devices`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ sessions: [] });
      } finally {
        await app.close();
      }
    });
  });
});

/** The error an application fails to start with, or undefined when it starts. */
function startupFailure(module: Type): Promise<Error | undefined> {
  return NestFactory.create(module, { logger: false, abortOnError: false }).then(
    async (app) => {
      await app.close();
      return undefined;
    },
    (error: Error) => error,
  );
}
