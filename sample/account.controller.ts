import { createHash } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  Header,
  Param,
  Post,
  Redirect,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';
import { InjectSessionStore, Session, SessionHandle, SessionStore, type SessionInfo } from '../lib';

interface AccountSession {
  username?: string;
  csrfToken?: string;
  [key: string]: unknown;
}

/** "Remember me": a persistent cookie of 30 days instead of a browser-session one. */
const REMEMBER_MS = 30 * 86_400_000;

/** csrf-sync's synchroniser token, sent back by each form as `_csrf`. */
const csrf = csrfSync({
  getTokenFromRequest: (request) => (request.body as { _csrf?: string } | undefined)?._csrf,
});

/**
 * The account page (README, "Account security"): a login form, then "where you are signed in"
 * with a sign-out button per device and one for every other device. Server-rendered, every form
 * CSRF-protected. A row is named by a hash of its session id, never by the id: the page does not
 * hand out the credentials of the user's other devices.
 */
@Controller('account')
export class AccountController {
  constructor(@InjectSessionStore() private readonly store: SessionStore) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async page(@Req() request: Request, @Session() session: SessionHandle<AccountSession>) {
    const token = csrf.generateToken(request);
    const user = session.userId;
    if (!user) {
      return page('Sign in', loginForm(token));
    }
    const sessions = await this.store.sessionsForUser(user, { current: session.id });
    return page(`Signed in as ${escape(user)}`, sessionsTable(sessions, token));
  }

  @Post('login')
  @Redirect('/account', 303)
  async login(
    @Req() request: Request,
    @Body() body: { username?: unknown; remember?: unknown },
    @Session() session: SessionHandle<AccountSession>,
  ) {
    checkCsrf(request);
    const { username } = body;
    if (typeof username !== 'string' || !/^[\w.@-]{1,64}$/.test(username)) {
      throw new BadRequestException('a username of 1 to 64 letters, digits, ".", "@", "_", "-"');
    }
    // a new id on login (against session fixation), nothing of the visit before carried over
    await session.regenerate({ fresh: true });
    session.set('username', username);
    session.setUser(username);
    if (body.remember === 'on') {
      session.cookie.maxAge = REMEMBER_MS;
    }
  }

  /** Ends one of the user's sessions, named by its hash (see the class). */
  @Post('sessions/:ref/sign-out')
  @Redirect('/account', 303)
  async signOut(
    @Req() request: Request,
    @Param('ref') ref: string,
    @Session() session: SessionHandle<AccountSession>,
  ) {
    checkCsrf(request);
    const user = signedIn(session);
    const target = (await this.store.sessionsForUser(user)).find((info) => refOf(info.id) === ref);
    if (target?.id === session.id) {
      await session.destroy();
    } else if (target) {
      // false (nothing ended) for a session that is not this user's: never the case here, as
      // the id comes from the user's own list, but an account page must not rely on that
      await this.store.destroyForUser(user, target.id);
    }
  }

  @Post('sign-out-others')
  @Redirect('/account', 303)
  async signOutOthers(@Req() request: Request, @Session() session: SessionHandle<AccountSession>) {
    checkCsrf(request);
    await this.store.destroyAllForUser(signedIn(session), { except: session.id });
  }

  @Post('logout')
  @Redirect('/account', 303)
  async logout(@Req() request: Request, @Session() session: SessionHandle<AccountSession>) {
    checkCsrf(request);
    await session.destroy();
  }
}

function checkCsrf(request: Request): void {
  if (!csrf.isRequestValid(request)) {
    throw new ForbiddenException('invalid CSRF token: reload the page and try again');
  }
}

function signedIn(session: SessionHandle<AccountSession>): string {
  if (!session.userId) {
    throw new UnauthorizedException('not signed in');
  }
  return session.userId;
}

/** What a row is named by: a hash of the session id (not reversible, stable). */
function refOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 22);
}

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function csrfField(token: string): string {
  return `<input type="hidden" name="_csrf" value="${escape(token)}">`;
}

function loginForm(token: string): string {
  return `<form method="post" action="/account/login" id="login">
  ${csrfField(token)}
  <label>Username <input name="username" required pattern="[\\w.@-]{1,64}"></label>
  <label><input type="checkbox" name="remember"> Remember me</label>
  <button type="submit">Sign in</button>
</form>`;
}

function sessionsTable(sessions: SessionInfo[], token: string): string {
  const rows = sessions.map((info) => {
    const device = info.client?.userAgent ?? 'unknown device';
    return `<tr data-session="${refOf(info.id)}"${info.current ? ' class="current"' : ''}>
    <td>${escape(device)}${info.current ? ' <strong>(this device)</strong>' : ''}</td>
    <td><time datetime="${info.createdAt.toISOString()}">${info.createdAt.toUTCString()}</time></td>
    <td><time datetime="${info.lastActiveAt.toISOString()}">${info.lastActiveAt.toUTCString()}</time></td>
    <td><form method="post" action="/account/sessions/${refOf(info.id)}/sign-out">${csrfField(token)}<button type="submit">Sign out</button></form></td>
  </tr>`;
  });
  return `<h2>Where you are signed in</h2>
<table id="sessions">
  <thead><tr><th>Device</th><th>Signed in</th><th>Last active</th><th></th></tr></thead>
  <tbody>
  ${rows.join('\n  ')}
  </tbody>
</table>
<form method="post" action="/account/sign-out-others" id="sign-out-others">${csrfField(token)}<button type="submit">Sign out all other devices</button></form>
<form method="post" action="/account/logout" id="logout">${csrfField(token)}<button type="submit">Sign out</button></form>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #222 }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0 }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top }
  tr.current { background: #eef6ff }
  form { display: inline }
  label { display: block; margin: .5rem 0 }
  button { margin-right: .5rem }
</style>
</head>
<body>
<h1>${title}</h1>
${body}
</body>
</html>`;
}
