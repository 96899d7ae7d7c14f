import { Controller, Get, Inject, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { NODE_ID, REDIS_URL } from './sample.constants';

@Controller()
export class AppController implements OnApplicationShutdown {
  private readonly redis: Redis;

  constructor(
    @Inject(NODE_ID) private readonly nodeId: string,
    @Inject(REDIS_URL) redisUrl: string,
  ) {
    this.redis = new Redis(redisUrl, { commandTimeout: 1_000, maxRetriesPerRequest: 1 });
  }

  @Get('health')
  async health() {
    const redis = await this.redis.ping().then(
      () => 'up',
      () => 'down',
    );
    return { status: redis === 'up' ? 'ok' : 'error', node: this.nodeId, redis };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
