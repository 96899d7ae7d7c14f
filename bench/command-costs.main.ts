import { Logger } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandCostsBench } from './command-costs.bench';

/**
 * `node dist/bench/command-costs.main.js [--quick]` (about 3.5 minutes; `--quick` replays 0.5 s):
 * Redis CPU per command by kind at saturation (#28), printed as a table and written to
 * bench/results/command-costs.json, which the traffic model reads to turn its commands per
 * request into Redis capacity.
 */
async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']); // the runtimes' start-up lines would mix with the tables
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const { lines, costs } = await commandCostsBench(quick ? { seconds: 0.5 } : {});
  if (costs) {
    const file = join(__dirname, '..', '..', 'bench', 'results', 'command-costs.json');
    writeFileSync(file, `${JSON.stringify(costs, null, 2)}\n`);
    lines.push('', `Written to ${file}`);
  }
  console.log(`${lines.join('\n')}\n\n(${((Date.now() - started) / 1_000).toFixed(0)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
