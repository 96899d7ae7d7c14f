import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../sample/support/free-port';
import { findRedisServer } from '../../sample/support/redis-binary';
import { waitFor } from '../../sample/support/wait-for';

const ROOT = join(__dirname, '..', '..');

/** Every process below `pid` (read from /proc), with its command line. */
function descendants(pid: number): Map<number, string> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited while we read
    }
  }
  const found = new Map<number, string>();
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent || found.has(child)) {
        continue;
      }
      found.set(child, commandLine(child));
      visit(child);
    }
  };
  visit(pid);
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    // a zombie still answers signal 0; it is gone for every purpose here
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

/**
 * `npm start` runs npm → sh → node (the sample's primary) → three workers and a private
 * redis-server. However a user stops it, everything it started stops with it.
 */
describe('npm start stops cleanly', () => {
  let npm: ChildProcess | undefined;
  let launched = new Map<number, string>();

  afterEach(() => {
    // a failed test must not leave anything running: npm and every process it had started
    for (const pid of [npm?.pid, ...launched.keys()]) {
      if (pid !== undefined && alive(pid)) {
        process.kill(pid, 'SIGKILL');
      }
    }
    launched = new Map();
  });

  /** Runs `npm start` until `ready` (by default: three workers listening). */
  async function start(
    extraEnv: NodeJS.ProcessEnv = {},
    ready = (output: string) => (output.match(/listening on/g) ?? []).length === 3,
  ): Promise<{ npm: ChildProcess; tree: Map<number, string>; port: number }> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    delete env.REDIS_URL;
    delete env.SESSION_SECRET;
    delete env.WORKERS;
    Object.assign(env, extraEnv);
    // its own process group, as a terminal gives a foreground job: the Ctrl-C case signals it
    npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = npm;
    await waitFor(
      () => {
        if (started.exitCode !== null) {
          throw new Error(`npm start exited: ${output}`);
        }
        return ready(output);
      },
      { timeoutMs: 60_000, intervalMs: 50, what: `npm start to serve on ${port}` },
    );
    const tree = descendants(started.pid!);
    launched = tree; // for afterEach
    return { npm: started, tree, port };
  }

  /** The tree of a started sample: one private redis-server, the primary and three workers. */
  function expectFullTree(tree: Map<number, string>) {
    const commands = [...tree.values()];
    expect(commands.filter((command) => /redis-server/.test(command))).toHaveLength(1);
    expect(
      commands.filter((command) => /dist\/sample\/main\.js/.test(command)).length,
    ).toBeGreaterThanOrEqual(4); // the primary, three workers
  }

  async function expectAllGone(started: ChildProcess, tree: Map<number, string>) {
    const left = () =>
      [...tree].filter(([pid]) => alive(pid)).map(([pid, command]) => `${pid} ${command}`);
    await waitFor(() => left().length === 0, {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'every process npm start began to exit',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; still running: ${left().join('; ')}`);
    });
    await waitFor(() => !alive(started.pid!), { timeoutMs: 15_000, what: 'npm to exit' });
  }

  it.each([
    ['SIGTERM to npm (kill <npm pid>, a container stop)', 'SIGTERM', 'npm'],
    ["SIGINT to npm's pid", 'SIGINT', 'npm'],
    ['Ctrl-C (SIGINT to the whole foreground process group)', 'SIGINT', 'group'],
  ] as const)(
    '%s stops node, its workers and redis-server',
    async (_name, signal, target) => {
      const { npm: started, tree } = await start();
      expectFullTree(tree);
      process.kill(target === 'group' ? -started.pid! : started.pid!, signal);
      await expectAllGone(started, tree);
    },
    90_000,
  );

  it('SIGTERM while the private redis-server is still starting leaves no redis-server behind', async () => {
    // a redis-server that takes a while to start: the signal arrives before it is ready
    const dir = mkdtempSync(join(tmpdir(), 'ncs-slow-redis-'));
    const slow = join(dir, 'redis-server');
    writeFileSync(
      slow,
      `#!/bin/sh\n[ "$1" = --version ] && exec ${findRedisServer()} "$@"\nsleep 1\nexec ${findRedisServer()} "$@" >/dev/null 2>&1\n`,
      { mode: 0o755 },
    );
    try {
      const { npm: started, tree } = await start({ REDIS_SERVER_BIN: slow }, () =>
        [...descendants(npm!.pid!).values()].some((command) => command.startsWith('sleep')),
      );
      process.kill(started.pid!, 'SIGTERM');
      await expectAllGone(started, tree);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
