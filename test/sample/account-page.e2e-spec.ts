import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RedisServer } from '../../sample/support/redis-server';
import { SampleProcess } from '../../sample/support/sample-process';

const SECRET = 'sample-secret-of-at-least-32-characters!';
/** Debian's Chromium (`.ci/run` installs it when missing). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LAUNCH = { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] };

/**
 * #27 item 6: the sample's account page in a real browser (headless Chromium) against two sample
 * processes on different ports sharing one Redis. Two browser contexts are two devices.
 */
describe('the account page in a real browser, on two sample nodes', () => {
  let redis: RedisServer;
  let a: SampleProcess;
  let b: SampleProcess;
  let browser: Browser;
  const profiles: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    }
    redis = await RedisServer.start();
    [a, b] = await Promise.all(
      ['a', 'b'].map((node) =>
        SampleProcess.start({ REDIS_URL: redis.url, SESSION_SECRET: SECRET, NODE_ID: node }),
      ),
    );
    browser = await chromium.launch(LAUNCH);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.dispose();
    for (const dir of profiles) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A device: a browser context of its own (cookies, storage), named by its user agent. */
  async function device(name: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ userAgent: `${name} (test browser)` });
    return { context, page: await context.newPage() };
  }

  async function signIn(page: Page, node: SampleProcess, username: string, remember = false) {
    await page.goto(`${node.url}/account`);
    await page.fill('input[name=username]', username);
    if (remember) {
      await page.check('input[name=remember]');
    }
    await Promise.all([page.waitForURL(`${node.url}/account`), page.click('#login button')]);
    await expectSignedIn(page, username);
  }

  async function expectSignedIn(page: Page, username: string) {
    expect(await page.textContent('h1')).toBe(`Signed in as ${username}`);
  }

  async function expectSignedOut(page: Page) {
    expect(await page.textContent('h1')).toBe('Sign in');
  }

  /** The devices listed, as their rows read: "<user agent>" and whether it is this one. */
  async function listed(page: Page): Promise<string[]> {
    return page.$$eval('#sessions tbody tr', (rows) =>
      rows.map((row) => (row.querySelector('td')?.textContent ?? '').trim()).sort(),
    );
  }

  it('two devices see each other, one signs the other out, which is signed out on either node', async () => {
    const laptop = await device('Laptop');
    const phone = await device('Phone');
    await signIn(laptop.page, a, 'ann');
    await signIn(phone.page, b, 'ann');

    // each sees both, on either node, its own marked
    for (const node of [a, b]) {
      await laptop.page.goto(`${node.url}/account`);
      expect(await listed(laptop.page)).toEqual([
        'Laptop (test browser) (this device)',
        'Phone (test browser)',
      ]);
      await phone.page.goto(`${node.url}/account`);
      expect(await listed(phone.page)).toEqual([
        'Laptop (test browser)',
        'Phone (test browser) (this device)',
      ]);
    }

    // the laptop ends the phone's session from its row, on node a
    await laptop.page.goto(`${a.url}/account`);
    await Promise.all([
      laptop.page.waitForURL(`${a.url}/account`),
      laptop.page.click('#sessions tr:not(.current) button'),
    ]);
    expect(await listed(laptop.page)).toEqual(['Laptop (test browser) (this device)']);
    // the phone's next request, on the other node, finds it signed out; and on a as well
    await phone.page.goto(`${b.url}/account`);
    await expectSignedOut(phone.page);
    await phone.page.goto(`${a.url}/account`);
    await expectSignedOut(phone.page);

    // signed in again on the phone; "sign out all other devices" from the laptop, on node b
    await signIn(phone.page, a, 'ann');
    await laptop.page.goto(`${b.url}/account`);
    expect(await listed(laptop.page)).toHaveLength(2);
    await Promise.all([
      laptop.page.waitForURL(`${b.url}/account`),
      laptop.page.click('#sign-out-others button'),
    ]);
    expect(await listed(laptop.page)).toEqual(['Laptop (test browser) (this device)']);
    await phone.page.goto(`${a.url}/account`);
    await expectSignedOut(phone.page);

    if (process.env.ACCOUNT_SCREENSHOT) {
      await signIn(phone.page, b, 'ann');
      await laptop.page.goto(`${a.url}/account`);
      await laptop.page.setViewportSize({ width: 900, height: 420 });
      await laptop.page.screenshot({ path: process.env.ACCOUNT_SCREENSHOT });
    }
    await Promise.all([laptop.context.close(), phone.context.close()]);
  }, 60_000);

  it('a form posted without its CSRF token ends nothing', async () => {
    const laptop = await device('Laptop');
    const phone = await device('Phone');
    await signIn(laptop.page, a, 'cy');
    await signIn(phone.page, b, 'cy');
    // a page of another site would post this form without the token
    const status = await laptop.page.evaluate(async (url) => {
      const response = await fetch(`${url}/account/sign-out-others`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '_csrf=forged',
      });
      return response.status;
    }, a.url);
    expect(status).toBe(403);
    await phone.page.reload();
    await expectSignedIn(phone.page, 'cy');
    await Promise.all([laptop.context.close(), phone.context.close()]);
  }, 60_000);

  it('the cookie as the browser applies it: HttpOnly, SameSite=Lax, for the host whatever the port', async () => {
    const laptop = await device('Laptop');
    await signIn(laptop.page, a, 'dee');
    const [cookie] = await laptop.context.cookies(a.url);
    expect(cookie).toMatchObject({ name: 'sid', httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie.expires).toBe(-1); // a browser-session cookie: no "remember me"
    // page script cannot read it
    expect(await laptop.page.evaluate<string>('document.cookie')).not.toContain('sid=');
    // cookies are per host, not per port: the same cookie reaches node b
    await laptop.page.goto(`${b.url}/account`);
    await expectSignedIn(laptop.page, 'dee');
    await laptop.context.close();
  }, 60_000);

  it('with a persistent profile, a remember-me session survives a browser restart, a browser-session one does not', async () => {
    async function restartedAfterSignIn(remember: boolean): Promise<Page> {
      const profile = mkdtempSync(join(tmpdir(), 'account-profile-'));
      profiles.push(profile);
      const first = await chromium.launchPersistentContext(profile, LAUNCH);
      const page = first.pages()[0] ?? (await first.newPage());
      await signIn(page, a, remember ? 'eve' : 'fay', remember);
      await first.close(); // the browser quits
      const again = await chromium.launchPersistentContext(profile, LAUNCH);
      const reopened = again.pages()[0] ?? (await again.newPage());
      await reopened.goto(`${b.url}/account`);
      return reopened;
    }
    const remembered = await restartedAfterSignIn(true);
    await expectSignedIn(remembered, 'eve');
    await remembered.context().close();
    const forgotten = await restartedAfterSignIn(false);
    await expectSignedOut(forgotten);
    await forgotten.context().close();
  }, 90_000);
});
