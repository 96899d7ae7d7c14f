/**
 * A NestJS app for the GraphQL and WebSocket suites, run as its own process (one per node): the
 * session in a controller, a GraphQL resolver (@nestjs/graphql with Apollo on Express, code
 * first) and a socket.io gateway, wired as those packages' documentation shows.
 * Environment: PORT, REDIS_URL, SESSION_SECRET, NODE_ID.
 */
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  Body,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  Get,
  Module,
  Post,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Args, GraphQLModule, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ConnectedSocket, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { ClusterSessionModule, Session, SessionHandle, SessionLoadGuard } from '../../../lib';

interface Data {
  username?: string;
  cart?: string[];
  remembered?: string;
}

@Controller()
class AccountController {
  @Post('login')
  async login(@Body() body: { username: string }, @Session() session: SessionHandle<Data>) {
    await session.regenerate();
    session.set('username', body.username);
    session.setUser(body.username);
    return { username: body.username };
  }

  @Get('cart')
  cart(@Session() session: SessionHandle<Data>) {
    if (session.isNew) {
      throw new UnauthorizedException();
    }
    return { cart: session.get('cart') ?? [] };
  }

  @Post('logout')
  async logout(@Session() session: SessionHandle<Data>) {
    await session.destroy();
    return { ok: true };
  }
}

@Resolver()
class CartResolver {
  @Query(() => String, { nullable: true })
  me(@Session() session: SessionHandle<Data>): string | null {
    return session.get('username') ?? null;
  }

  @Query(() => [String])
  cart(@Session('cart') cart: string[] | undefined): string[] {
    return cart ?? [];
  }

  /** Logs in as `username`: fields of one query run at once, so two of these regenerate together. */
  @Query(() => String)
  async loginAs(@Args('username') username: string, @Session() session: SessionHandle<Data>) {
    await session.regenerate();
    session.set('username', username);
    session.setUser(username);
    return username;
  }

  /**
   * Sets a key and saves, at once or after other work (`pause`: 0 none, 1 a turn of the event
   * loop, 2 a millisecond): beside a loginAs, the save reaches Redis before, during or after
   * that login's move.
   */
  @Query(() => String)
  async remember(
    @Args('what') what: string,
    @Args('pause', { type: () => Int, defaultValue: 0 }) pause: number,
    @Session() session: SessionHandle<Data>,
  ) {
    session.set('remembered', what);
    if (pause === 1) {
      await new Promise((resolve) => setImmediate(resolve));
    } else if (pause === 2) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await session.save();
    return what;
  }

  @Query(() => String, { nullable: true })
  remembered(@Session('remembered') remembered: string | undefined) {
    return remembered ?? null;
  }

  /** Regenerates, and answers the new id: fields of one query run at once. */
  @Query(() => String)
  async regenerated(@Session() session: SessionHandle<Data>) {
    await session.regenerate();
    return session.id;
  }

  /** The id of the session the cookie names, or null. */
  @Query(() => String, { nullable: true })
  sessionId(@Session() session: SessionHandle<Data>) {
    return session.isNew ? null : session.id;
  }

  @Mutation(() => [String])
  addToCart(@Args('item') item: string, @Session() session: SessionHandle<Data>): string[] {
    const cart = [...(session.get('cart') ?? []), item];
    session.set('cart', cart);
    return cart;
  }
}

/** The message's pattern, and its arguments as a logging interceptor would print them. */
const MessageContext = createParamDecorator((_: unknown, context: ExecutionContext) => ({
  pattern: context.switchToWs().getPattern(),
  args: JSON.stringify(context.getArgs().slice(1)), // the socket itself is circular
}));

// Nest applies global guards to controllers and resolvers, not to gateways: this one loads the
// session of the handshake's cookie for each message that declares @Session(). The gateway lives
// in a module of its own that does not import ClusterSessionModule, as a feature module would.
@WebSocketGateway()
@UseGuards(SessionLoadGuard)
class SessionGateway {
  @SubscribeMessage('whoami')
  whoami(@Session() session: SessionHandle<Data>) {
    return { username: session.get('username') ?? null, node: process.env.NODE_ID };
  }

  @SubscribeMessage('rename')
  rename(@Session() session: SessionHandle<Data>) {
    session.set('username', 'changed over a socket'); // read-only here: throws
    return { ok: true };
  }

  /** Every other way of changing the session: each must throw. */
  @SubscribeMessage('tamper')
  tamper(@Session() session: SessionHandle<Data>) {
    const attempt = (change: () => unknown) => {
      try {
        change();
        return 'changed';
      } catch {
        return 'refused';
      }
    };
    // what TypeScript calls private is still there at run time: the handle's move, its store
    const internals = session as unknown as Record<string, unknown>;
    return {
      nested: attempt(() => session.get('cart')?.push('from a socket')),
      data: attempt(() => session.data.cart?.push('from a socket')),
      cookie: attempt(() => (session.cookie.maxAge = 1_000)),
      reload: attempt(() => session.reload()),
      move: attempt(() => (internals.move as (options: object) => unknown)({})),
      reachable: ['store', 'move', 'session', 'options'].filter(
        (name) => internals[name] !== undefined,
      ),
    };
  }

  /** What Nest's context tells the handler's other decorators after the guard ran. */
  @SubscribeMessage('context')
  context(
    @Session() session: SessionHandle<Data>,
    @MessageContext() context: { pattern: unknown; args: string },
  ) {
    return { username: session.get('username') ?? null, ...context };
  }

  /** A handler without @Session(): the handshake request carries no session of an earlier message. */
  @SubscribeMessage('leftover')
  leftover(@ConnectedSocket() socket: { request: { session?: unknown } }) {
    return { session: socket.request.session ?? null };
  }
}

/** A gateway without SessionLoadGuard: its @Session() has no session to give, and says why. */
@WebSocketGateway()
class UnguardedGateway {
  @SubscribeMessage('whoami-unguarded')
  whoami(@Session() session: SessionHandle<Data>) {
    return { username: session.get('username') ?? null };
  }
}

@Module({ providers: [SessionGateway, UnguardedGateway] })
class PresenceModule {}

@Module({
  imports: [
    ClusterSessionModule.forRoot({
      secret: process.env.SESSION_SECRET ?? '',
      redis: process.env.REDIS_URL,
      cluster: { nodeId: process.env.NODE_ID },
    }),
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      allowBatchedHttpRequests: true, // Apollo's batched operations, all on one HTTP request
    }),
    PresenceModule,
  ],
  controllers: [AccountController],
  providers: [CartResolver],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  console.log(`[graphql-ws] ${process.env.NODE_ID} listening`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
