#!/usr/bin/env node
// pretest / prestart / prebench: install dependencies when they are missing or older than the
// lockfile, then build (tsc is incremental, so an up-to-date build costs a second or two).
'use strict';
const { execSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.log('[ensure-ready] installing dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund');
}
run('npm run --silent build');
