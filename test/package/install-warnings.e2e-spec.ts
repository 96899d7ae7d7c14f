import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/**
 * What the first `npm start` or `npm test` of a clone prints while it installs: `npm ci` of this
 * manifest and lock on the Node running the tests (20 in CI, which the README supports), asked
 * for its plan only (`--dry-run`, in a folder of its own: nothing is installed or removed).
 */
describe('npm ci of a fresh clone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncs-install-'));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('warns of nothing: no engine the running Node does not meet, no peer dependency overridden', async () => {
    for (const file of ['package.json', 'package-lock.json']) {
      copyFileSync(join(ROOT, file), join(dir, file));
    }
    const { stdout, stderr } = await run(
      'npm',
      ['ci', '--dry-run', '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: dir },
    );
    const warnings = `${stdout}\n${stderr}`.split('\n').filter((line) => /^npm warn/i.test(line));
    expect(warnings).toEqual([]);
  });
});
