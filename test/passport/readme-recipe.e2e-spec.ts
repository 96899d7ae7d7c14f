import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The README's "Using Passport" recipe is sample/passport, file for file (what the tests run). */
describe("the README's Passport recipe", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Using Passport');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const blocks = [...section.matchAll(/^`([\w.-]+\.ts)`:\n\n```ts\n([\s\S]*?)\n```$/gm)];

  it('shows every file of sample/passport', () => {
    expect(blocks.map(([, file]) => file).sort()).toEqual(
      [
        'auth.controller.ts',
        'auth.guards.ts',
        'csrf.ts',
        'local.strategy.ts',
        'main.ts',
        'passport-app.module.ts',
        'session.serializer.ts',
        'users.service.ts',
      ].sort(),
    );
  });

  it.each(blocks.map(([, file, code]) => [file, code]))('%s is the tested file', (file, code) => {
    const tested = readFileSync(join(ROOT, 'sample', 'passport', file), 'utf8')
      .replaceAll("'../../lib'", "'nestjs-cluster-session'")
      .trimEnd();
    expect(code).toBe(tested);
  });
});
