#!/usr/bin/env node
// prepack / postpack: the README's relative links (BENCHMARKS.md, the benchmark chart) resolve in
// the repository but not on the npm registry's page. `prepack` rewrites them to the same files in
// the published package (unpkg serves every published version's files), pinned to the version
// being packed; `postpack` puts the repository's README back.
'use strict';
const { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const readme = join(root, 'README.md');
const kept = join(root, '.README.md.repository');
const { name, version, files } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `[text](path)` and `![alt](path)` whose path is relative: not a URL, not an anchor. */
const RELATIVE_LINK = /(\]\()(?![a-z][a-z0-9+.-]*:|#|\/)([^)\s]+)(\))/gi;

function absolute(markdown) {
  return markdown.replace(RELATIVE_LINK, (_, open, path, close) => {
    const shipped = files.some((entry) => path === entry || path.startsWith(`${entry}/`));
    if (!shipped) {
      throw new Error(`README.md links to ${path}, which the package does not ship (see "files")`);
    }
    return `${open}https://unpkg.com/${name}@${version}/${path}${close}`;
  });
}

const mode = process.argv[2];
if (mode === 'prepack') {
  if (!existsSync(kept)) copyFileSync(readme, kept);
  // Written beside and renamed over, so that a reader of README.md never sees half a file.
  writeFileSync(`${readme}.packing`, absolute(readFileSync(kept, 'utf8')));
  renameSync(`${readme}.packing`, readme);
} else if (mode === 'postpack') {
  if (existsSync(kept)) renameSync(kept, readme);
} else {
  throw new Error('usage: pack-readme.cjs prepack|postpack');
}
