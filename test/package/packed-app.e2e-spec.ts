import { execFile, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HttpClient } from '../http/support/http-client';
import { RedisServer } from '../../sample/support/redis-server';
import { exportedNames } from '../support/exported-names';
import { freePort } from '../../sample/support/free-port';
import { waitFor } from '../../sample/support/wait-for';
import { SampleProcess } from '../../sample/support/sample-process';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const SECRET = 'packed-app-secret-of-at-least-32-characters';

/** The version of `name` this repository was tested with, so the fresh app installs the same. */
const tested = (name: string): string =>
  JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

/** What a new user's app installs next to the package: the README's imports, pinned as tested. */
const APP_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/config',
  '@nestjs/terminus',
  '@nestjs/passport',
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@apollo/server',
  '@as-integrations/express5',
  'graphql',
  '@nestjs/websockets',
  '@nestjs/platform-socket.io',
  'ioredis',
  'reflect-metadata',
  'rxjs',
  'passport',
  'passport-local',
  'connect-flash',
  'csrf-sync',
  '@types/node',
  '@types/express',
  '@types/express-session',
  '@types/passport-local',
  '@types/connect-flash',
];

/**
 * The app `nest new` generates: an ES-module app ("type": "module", relative imports with `.js`)
 * on NestJS 12, a CommonJS one on NestJS 11. The README's blocks must compile and run in either.
 */
const ESM_APP = Number(tested('@nestjs/core').split('.')[0]) >= 12;

/** The compiler options both versions' generated tsconfig.json open with. */
const NEST_NEW_COMPILER_OPTIONS = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  outDir: './dist',
};

/**
 * What `nest new` generates (strict and with tests, its defaults): the tsconfig.json and
 * tsconfig.build.json of @nestjs/schematics 11.1.0 (`application/files/ts`) on NestJS 11, of
 * 12.0.17 (`application/files/ts-esm`) on NestJS 12, and the TypeScript (and, on 12, Vitest:
 * its `types` names `vitest/globals`) their package.json asks for.
 */
const NEST_NEW = ESM_APP
  ? {
      tsconfig: {
        compilerOptions: {
          ...NEST_NEW_COMPILER_OPTIONS,
          rootDir: '.',
          incremental: true,
          skipLibCheck: true,
          strict: true,
          strictPropertyInitialization: false,
          types: ['vitest/globals', 'node'],
        },
      } as TsConfig,
      tsconfigBuild: {
        extends: './tsconfig.json',
        compilerOptions: { rootDir: './src' },
        include: ['src'],
        exclude: ['node_modules', 'test', 'dist', '**/*.spec.ts'],
      },
      devDependencies: { typescript: '6.0.3', vitest: '4.1.12' },
    }
  : {
      tsconfig: {
        compilerOptions: {
          ...NEST_NEW_COMPILER_OPTIONS,
          baseUrl: './',
          incremental: true,
          skipLibCheck: true,
          strictNullChecks: true,
          forceConsistentCasingInFileNames: true,
          noImplicitAny: true,
          strictBindCallApply: true,
          noFallthroughCasesInSwitch: true,
        },
      } as TsConfig,
      tsconfigBuild: {
        extends: './tsconfig.json',
        exclude: ['node_modules', 'test', 'dist', '**/*spec.ts'],
      },
      devDependencies: { typescript: tested('typescript') },
    };

interface TsConfig {
  compilerOptions: Record<string, unknown> & { types?: string[] };
}

/**
 * What the README tells a user to do to a generated tsconfig.json: its `tsconfig.json` block's
 * `types`, added to the list when the generated file has one.
 */
function withReadmeAdvice(tsconfig: TsConfig, readme: string): TsConfig {
  const block = /`tsconfig\.json`[^\n]*:\n\n```json\n([\s\S]*?)\n```/.exec(readme);
  const advised: string[] = block ? (JSON.parse(block[1]).compilerOptions?.types ?? []) : [];
  const types = tsconfig.compilerOptions.types;
  if (types === undefined) {
    return tsconfig;
  }
  return {
    ...tsconfig,
    compilerOptions: { ...tsconfig.compilerOptions, types: [...new Set([...types, ...advised])] },
  };
}

/**
 * Session data typed once per app (the quick start's `declare module`): what compiles and what
 * must not, in a file of the app beside the README's.
 */
const TYPED_SESSION_CHECKS = `import type { ExpressSessionView, SessionHandle, SessionStore } from 'nestjs-cluster-session';

export async function typedOnce(session: SessionHandle, view: ExpressSessionView, store: SessionStore) {
  const username: string | undefined = session.get('username');
  const cart: string[] | undefined = session.data.cart;
  session.set('cart', ['apple']);
  // @ts-expect-error a number is not a username
  session.set('username', 42);
  // @ts-expect-error a key the app never declared
  session.get('nope');
  const fromView: string | undefined = view.username;
  // @ts-expect-error req.session's keys are typed too
  view.cart = 'apple';
  const stored: string[] | undefined = (await store.get(session.id))?.data.cart;
  const perParameter: SessionHandle<{ step?: number }> = session as unknown as SessionHandle<{ step?: number }>;
  perParameter.set('step', 2); // a type argument still wins
  return { username, cart, fromView, stored };
}
`;

/** Names a README fragment (a block that is not a whole file) may use without declaring them. */
const FRAGMENT_PRELUDE = 'declare const secret: string;\ndeclare const password: string;\n';

interface Block {
  file?: string; // the file name the README gives above the block (`app.module.ts`:)
  section: string;
  code: string;
}

/** Every ```ts block of a README, with the section it is in and the file name above it, if any. */
function tsBlocks(readme: string): Block[] {
  const blocks: Block[] = [];
  let section = '';
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('## ')) {
      section = lines[i].slice(3);
    }
    if (lines[i] !== '```ts') {
      continue;
    }
    const end = lines.indexOf('```', i + 1);
    const label = /^`([\w.-]+\.ts)`:$/.exec(lines[i - 2] ?? '');
    blocks.push({ file: label?.[1], section, code: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return blocks;
}

/**
 * What a new user does: `npm pack` this repository, install the tarball into a fresh app beside
 * NestJS, copy the README's TypeScript blocks, compile them with `nest new`'s settings made
 * strict, and run the quick start as two instances on one Redis.
 */
describe(`the packed package in a fresh ${ESM_APP ? 'ES-module' : 'CommonJS'} app`, () => {
  const work = mkdtempSync(join(tmpdir(), 'ncs-packed-'));
  const app = join(work, 'app');
  let packed: string; // the unpacked tarball
  let readme: string; // the README as the registry shows it
  let redis: RedisServer;
  const nodes: SampleProcess[] = [];

  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
    });
    const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('[')));
    await run('tar', ['xzf', join(work, filename), '-C', work]);
    packed = join(work, 'package');
    readme = readFileSync(join(packed, 'README.md'), 'utf8');

    mkdirSync(join(app, 'src'), { recursive: true });
    const dependencies = Object.fromEntries(APP_DEPENDENCIES.map((n) => [n, tested(n)]));
    dependencies['nestjs-cluster-session'] = `file:${join(work, filename)}`;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'fresh-app',
          private: true,
          ...(ESM_APP ? { type: 'module' } : {}),
          dependencies,
          devDependencies: NEST_NEW.devDependencies,
        },
        null,
        2,
      ),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify(withReadmeAdvice(NEST_NEW.tsconfig, readme), null, 2),
    );
    writeFileSync(
      join(app, 'tsconfig.build.json'),
      JSON.stringify(NEST_NEW.tsconfigBuild, null, 2),
    );
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the compiled library with types, LICENSE, and the files the README links to', () => {
    const files = (dir: string, prefix = ''): string[] =>
      readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
      );
    const shipped = files(packed);
    expect(shipped).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'BENCHMARKS.md',
        'bench/results/http.svg',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
      ]),
    );
    expect(shipped.filter((file) => /spec|test\/|sample\/|\.tsbuildinfo/.test(file))).toEqual([]);
    // Source maps carry their sources: they point to lib/*.ts, which is not shipped.
    const maps = shipped.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    const withoutSources = maps.filter((map) => {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(packed, map), 'utf8'));
      return !Array.isArray(sourcesContent) || sourcesContent.length !== sources.length;
    });
    expect(withoutSources).toEqual([]);
  });

  it("the registry's README has no relative links; the repository's README is left as it was", () => {
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target);
    expect(links.filter((target) => !/^(https?:|#)/.test(target))).toEqual([]);
    const { version, repository } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(links).toContain(`https://unpkg.com/nestjs-cluster-session@${version}/BENCHMARKS.md`);
    // files the package does not ship: the repository, at the version's tag
    const repositoryPage = repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(links).toContain(`${repositoryPage}/blob/v${version}/sample/passport`);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](BENCHMARKS.md)');
  });

  it('a pack that fails between prepack and postpack loses no later edit of the README', async () => {
    // the script on a copy of the repository's README (it works on the README beside its folder)
    const copy = join(work, 'readme-copy');
    mkdirSync(join(copy, 'scripts'), { recursive: true });
    for (const file of ['package.json', 'README.md', 'scripts/pack-readme.cjs']) {
      writeFileSync(join(copy, file), readFileSync(join(ROOT, file)));
    }
    for (const linked of ['BENCHMARKS.md', 'bench', 'docs', 'lib', 'sample', 'test']) {
      symlinkSync(join(ROOT, linked), join(copy, linked)); // what the README links to
    }
    const script = (mode: string) =>
      run(process.execPath, [join(copy, 'scripts', 'pack-readme.cjs'), mode]);
    const original = readFileSync(join(copy, 'README.md'), 'utf8');
    await script('prepack'); // ...and the pack fails: npm runs no postpack
    const rewritten = readFileSync(join(copy, 'README.md'), 'utf8');
    expect(rewritten).not.toBe(original);
    writeFileSync(join(copy, 'README.md'), `${rewritten}An edit made after the failed pack.\n`);
    await script('prepack'); // the next pack
    expect(readFileSync(join(copy, 'README.md'), 'utf8')).toBe(
      `${rewritten}An edit made after the failed pack.\n`,
    );
    await script('postpack');
    expect(readFileSync(join(copy, 'README.md'), 'utf8')).toBe(
      `${original}An edit made after the failed pack.\n`,
    );
  });

  it('resolves through the exports map, and the types come with it', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-e', "console.log(typeof require('nestjs-cluster-session').ClusterSessionModule)"],
      { cwd: app },
    );
    expect(stdout.trim()).toBe('function');
    const manifest = JSON.parse(readFileSync(join(packed, 'package.json'), 'utf8'));
    expect(manifest.exports['.'].types).toBe('./dist/lib/index.d.ts');
  });

  it("every TypeScript block of the README compiles against the installed package, with the tsconfig nest new generates (and the README's advice)", async () => {
    const blocks = tsBlocks(readme);
    const quickStart = blocks.filter((block) => block.section === 'Quick start');
    const passport = blocks.filter((block) => block.section === 'Using Passport');
    expect(quickStart.map((block) => block.file)).toEqual(['app.module.ts', 'main.ts']);
    expect(passport.length).toBeGreaterThanOrEqual(8);
    for (const block of blocks) {
      const dir = block.section === 'Quick start' ? 'src' : join('src', slug(block.section));
      mkdirSync(join(app, dir), { recursive: true });
      if (block.file) {
        writeFileSync(join(app, dir, block.file), block.code);
      } else {
        const names = packageExports().filter((name) =>
          new RegExp(`\\b${name}\\b`).test(block.code),
        );
        const imports = `import { ${names.join(', ')} } from 'nestjs-cluster-session';\n`;
        const index = blocks.indexOf(block);
        writeFileSync(
          join(app, dir, `fragment-${index}.ts`),
          `${imports}${FRAGMENT_PRELUDE}export {};\n${block.code}`,
        );
      }
    }
    writeFileSync(join(app, 'src', 'typed-session.ts'), TYPED_SESSION_CHECKS);
    const compiled = await run(
      join(app, 'node_modules', '.bin', 'tsc'),
      ['-p', 'tsconfig.build.json'],
      {
        cwd: app,
      },
    ).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(compiled).toBe('');
  }, 120_000);

  it('the quick start, run as two instances on one Redis, shares the session between them', async () => {
    redis ??= await RedisServer.start();
    for (const port of [0, 1]) {
      nodes[port] = await SampleProcess.start(
        { REDIS_URL: redis.url, SESSION_SECRET: SECRET, NODE_ID: `quick-${port}` },
        { script: join(app, 'dist', 'main.js') },
      );
    }
    const [a, b] = nodes;
    const browser = new HttpClient('');

    expect((await browser.post(`${a.url}/logout-all`)).status).toBe(401); // nobody logged in
    expect((await browser.get(`${b.url}/me`)).status).toBe(401);
    const login = await browser.post(`${a.url}/login`, { username: 'alice' });
    expect(login.status).toBe(201);
    expect((await browser.get(`${b.url}/me`)).json).toEqual({ username: 'alice' });
    expect((await browser.post(`${b.url}/cart`, { item: 'apple' })).json).toEqual(['apple']);
    expect((await browser.post(`${a.url}/cart`, { item: 'pear' })).json).toEqual(['apple', 'pear']);
    expect((await browser.get(`${b.url}/cart`)).json).toEqual(['apple', 'pear']);

    const phone = new HttpClient('');
    await phone.post(`${b.url}/login`, { username: 'alice' });
    expect((await browser.post(`${a.url}/logout-all`)).json).toEqual({ destroyed: 2 });
    expect((await phone.get(`${a.url}/me`)).status).toBe(401);
    expect((await phone.get(`${b.url}/me`)).status).toBe(401);

    await browser.post(`${b.url}/login`, { username: 'bob' });
    await browser.post(`${a.url}/cart`, { item: "bob's" });
    // another user logging in on this browser gets none of bob's data...
    await browser.post(`${a.url}/login`, { username: 'carol' });
    expect((await browser.get(`${b.url}/me`)).json).toEqual({ username: 'carol' });
    // ...while a cart filled before logging in is kept
    const visitor = new HttpClient('');
    await visitor.post(`${b.url}/cart`, { item: 'plum' });
    await visitor.post(`${a.url}/login`, { username: 'dave' });
    expect((await visitor.get(`${b.url}/me`)).json).toEqual({ username: 'dave', cart: ['plum'] });
    expect((await browser.post(`${a.url}/logout`)).json).toEqual({ ok: true });
    expect(browser.cookie).toBeUndefined();
    expect((await browser.get(`${b.url}/health`)).status).toBe(200);
  }, 60_000);

  it("the README's two-instance commands, run as written, share one secret and the session", async () => {
    const [start, login] = [...readme.matchAll(/```sh\n([\s\S]*?)\n```/g)]
      .map(([, block]) => block)
      .filter((block) => /PORT=3001|localhost:3001/.test(block));
    redis ??= await RedisServer.start();
    const ports = { '3001': await freePort(), '3002': await freePort() };
    const onFreePorts = (block: string) =>
      block.replace(/3001|3002/g, (port) => String(ports[port as keyof typeof ports]));
    const shell = spawn(
      'bash',
      ['-c', `set -e\n${onFreePorts(start)}\nwait`], // as pasted into a terminal, which stays open
      { cwd: app, env: { ...process.env, REDIS_URL: redis.url }, detached: true, stdio: 'ignore' },
    );
    try {
      for (const port of Object.values(ports)) {
        await waitFor(
          async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok,
          { what: `the instance on port ${port}`, timeoutMs: 20_000 },
        );
      }
      const { stdout } = await run('bash', ['-c', `set -e\n${onFreePorts(login)}`], { cwd: app });
      // the login's answer, then /me's on the other instance
      expect(stdout).toBe('{"username":"alice"}{"username":"alice"}');
    } finally {
      process.kill(-shell.pid!, 'SIGTERM'); // the shell and both instances
    }
  }, 60_000);

  /** The names the package exports (values and types), read from its declaration file. */
  function packageExports(): string[] {
    return exportedNames(readFileSync(join(packed, 'dist', 'lib', 'index.d.ts'), 'utf8'));
  }
});

function slug(section: string): string {
  return section
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
