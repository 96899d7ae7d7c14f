/* A minimal Nest app on the built module: express-session-style routes that call the session API without a callback. */
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { Module, Controller, Post, Get, Req } = require('@nestjs/common');
const { ClusterSessionModule } = require('../../../dist/lib');

class C {
  ping() {
    return { ok: true };
  }
  set(req) {
    req.session.n = (req.session.n || 0) + 1;
    return { ok: true };
  }
  // express-session idiom: fire-and-forget save (e.g. before a redirect)
  note(req) {
    req.session.note = req.body.note;
    req.session.save();
    return { ok: true };
  }
  // express-session idiom: logout without a callback
  logout(req) {
    req.session.destroy();
    return { ok: true };
  }
  // a callback that throws (a bug in app code, e.g. reading a property of undefined)
  regen(req) {
    req.session.regenerate(() => {
      throw new Error('bug in the callback');
    });
    return { ok: true };
  }
}
const route = (verb, path, name) => {
  Req()(C.prototype, name, 0);
  verb(path)(C.prototype, name, Object.getOwnPropertyDescriptor(C.prototype, name));
};
Get('ping')(C.prototype, 'ping', Object.getOwnPropertyDescriptor(C.prototype, 'ping'));
route(Post, 'set', 'set');
route(Post, 'note', 'note');
route(Post, 'logout', 'logout');
route(Post, 'regen', 'regen');
Controller()(C);
class M {}
Module({
  imports: [
    ClusterSessionModule.forRoot({
      secret: process.env.SESSION_SECRET,
      redis: process.env.REDIS_URL,
    }),
  ],
  controllers: [C],
})(M);

(async () => {
  const app = await NestFactory.create(M, { logger: ['error'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  console.log('listening');
})();
