#!/usr/bin/env node
/**
 * The manifest CI tests NestJS 12 with: package.json with the @nestjs/* packages (and the GraphQL
 * and WebSocket ones that follow Nest's major) at their NestJS 12 versions, locked in
 * .ci/nestjs-12/package-lock.json.
 *
 *   node scripts/nestjs-12.cjs update   rewrite .ci/nestjs-12/package.json from package.json and
 *                                       lock it (after a dependency change, or to move to a newer 12)
 *   node scripts/nestjs-12.cjs check    fail unless .ci/nestjs-12 is what update writes now: its
 *                                       package.json, and a lock derived from today's package-lock.json
 */
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const DIR = join(ROOT, '.ci', 'nestjs-12');

/** The versions tested on NestJS 12; every other dependency is as in package.json. */
const NESTJS_12 = {
  '@nestjs/apollo': '^14.0.3',
  '@nestjs/common': '^12.5.1',
  '@nestjs/config': '^12.0.1',
  '@nestjs/core': '^12.5.1',
  '@nestjs/graphql': '^14.0.3',
  '@nestjs/passport': '^12.0.0',
  '@nestjs/platform-express': '^12.5.1',
  '@nestjs/platform-fastify': '^12.5.0',
  '@nestjs/platform-socket.io': '^12.1.1',
  '@nestjs/terminus': '^12.1.0',
  '@nestjs/testing': '^12.1.1',
  '@nestjs/websockets': '^12.1.1',
};

/** Which root lock the NestJS 12 lock was derived from: it must be derived again when that changes. */
function rootLockHash() {
  const lock = readFileSync(join(ROOT, 'package-lock.json'));
  return `${createHash('sha256').update(lock).digest('hex')}\n`;
}

function manifest() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const [name, range] of Object.entries(NESTJS_12)) {
    if (!pkg.devDependencies[name])
      throw new Error(`${name} is no longer a devDependency: update NESTJS_12`);
    pkg.devDependencies[name] = range;
  }
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

const command = process.argv[2];
if (command === 'update') {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, 'package.json'), manifest());
  // from package.json's lock without its @nestjs/* entries (npm cannot move a set of peers to a
  // new major in place), so that only what NestJS 12 needs differs
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).filter(([path]) => !path.includes('node_modules/@nestjs/')),
  );
  writeFileSync(join(DIR, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], {
    cwd: DIR,
    stdio: 'inherit',
  });
  writeFileSync(join(DIR, 'derived-from.sha256'), rootLockHash());
} else if (command === 'check') {
  const committed = (file) => {
    try {
      return readFileSync(join(DIR, file), 'utf8');
    } catch {
      return ''; // reported below
    }
  };
  if (committed('package.json') !== manifest()) {
    console.error(
      '.ci/nestjs-12/package.json is not package.json with NestJS 12: run node scripts/nestjs-12.cjs update',
    );
    process.exit(1);
  }
  if (committed('derived-from.sha256') !== rootLockHash()) {
    console.error(
      '.ci/nestjs-12/package-lock.json was derived from another package-lock.json: run node scripts/nestjs-12.cjs update',
    );
    process.exit(1);
  }
} else {
  console.error('usage: node scripts/nestjs-12.cjs update | check');
  process.exit(2);
}
