import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Session, type SessionHandle } from '../../lib';
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
});
