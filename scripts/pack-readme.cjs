#!/usr/bin/env node
// prepack / postpack: the README's relative links (BENCHMARKS.md, the benchmark chart) resolve in
// the repository but not on the npm registry's page. `prepack` rewrites them to the same files in
// the published package (unpkg serves every published version's files), pinned to the version
// being packed; `postpack` rewrites them back. Each is the other's inverse and keeps no copy, so
// a pack that fails or is interrupted between them loses no edit: the README only keeps absolute
// links until the next pack, or `node scripts/pack-readme.cjs postpack`, puts them back.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const readme = join(root, 'README.md');
const { name, version, files } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const published = `https://unpkg.com/${name}@${version}/`;

/** `[text](path)` and `![alt](path)` whose path is relative: not a URL, not an anchor. */
const RELATIVE_LINK = /(\]\()(?![a-z][a-z0-9+.-]*:|#|\/)([^)\s]+)(\))/gi;

function absolute(markdown) {
  return markdown.replace(RELATIVE_LINK, (_, open, path, close) => {
    const shipped = files.some((entry) => path === entry || path.startsWith(`${entry}/`));
    if (!shipped) {
      throw new Error(`README.md links to ${path}, which the package does not ship (see "files")`);
    }
    return `${open}${published}${path}${close}`;
  });
}

function relative(markdown) {
  return markdown.replaceAll(`](${published}`, '](');
}

/** Written beside and renamed over, so that a reader of README.md never sees half a file. */
function rewrite(transform) {
  const text = readFileSync(readme, 'utf8');
  const result = transform(relative(text)); // from the repository's form, whatever state it is in
  if (result === text) return;
  writeFileSync(`${readme}.packing`, result);
  renameSync(`${readme}.packing`, readme);
}

const mode = process.argv[2];
if (mode === 'prepack') rewrite(absolute);
else if (mode === 'postpack') rewrite((markdown) => markdown);
else throw new Error('usage: pack-readme.cjs prepack|postpack');
