import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppController } from './app.controller';
import { NODE_ID, REDIS_URL } from './sample.constants';

@Module({})
export class AppModule implements NestModule {
  private static nodeId = '';

  static forNode(nodeId: string, redisUrl: string): DynamicModule {
    AppModule.nodeId = nodeId;
    return {
      module: AppModule,
      controllers: [AppController],
      providers: [
        { provide: NODE_ID, useValue: nodeId },
        { provide: REDIS_URL, useValue: redisUrl },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    const nodeId = AppModule.nodeId;
    consumer
      .apply((_req: IncomingMessage, res: ServerResponse, next: () => void) => {
        res.setHeader('X-Node-Id', nodeId);
        next();
      })
      .forRoutes('*path');
  }
}
