#!/usr/bin/env node
// prepack / postpack: the README's relative links (BENCHMARKS.md, the benchmark chart, the sample
// and the tests) resolve in the repository but not on the npm registry's page. `prepack` rewrites
// those to files the package ships to the same files in the published package (unpkg serves every
// published version's files), and the others to the repository at the version's tag, both pinned
// to the version being packed; `postpack` rewrites them back. Each is the other's inverse and keeps no copy, so
// a pack that fails or is interrupted between them loses no edit: the README only keeps absolute
// links until the next pack, or `node scripts/pack-readme.cjs postpack`, puts them back.
'use strict';
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const readme = join(root, 'README.md');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { name, version, files } = manifest;
const published = `https://unpkg.com/${name}@${version}/`;
/** `git+https://github.com/o/r.git` → `https://github.com/o/r/blob/v1.2.3/` */
const tagged = `${manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/blob/v${version}/`;

/** `[text](path)` and `![alt](path)` whose path is relative: not a URL, not an anchor. */
const RELATIVE_LINK = /(\]\()(?![a-z][a-z0-9+.-]*:|#|\/)([^)\s]+)(\))/gi;

function absolute(markdown) {
  return markdown.replace(RELATIVE_LINK, (_, open, path, close) => {
    if (!existsSync(join(root, path.split('#')[0]))) {
      throw new Error(`README.md links to ${path}, which is not in the repository`);
    }
    const shipped = files.some((entry) => path === entry || path.startsWith(`${entry}/`));
    return `${open}${shipped ? published : tagged}${path}${close}`;
  });
}

function relative(markdown) {
  return markdown.replaceAll(`](${published}`, '](').replaceAll(`](${tagged}`, '](');
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
