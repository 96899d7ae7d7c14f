import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

describe("the README's map of lib/", () => {
  it('names every folder of lib/, and only those', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## How it works'));
    const mapped = [...section.matchAll(/^- `lib\/([a-z-]+)\/`/gm)].map(([, folder]) => folder);
    const folders = readdirSync(__dirname, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(mapped.sort()).toEqual(folders.sort());
  });
});
