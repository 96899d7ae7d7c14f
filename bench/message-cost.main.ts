import { Logger } from '@nestjs/common';
import { messageCostBench } from './message-cost.bench';

/** `node dist/bench/message-cost.main.js` (about 30 s): CPU per received message on a node (#28). */
async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']); // the runtimes' start-up lines would mix with the tables
  const started = Date.now();
  const lines = await messageCostBench();
  console.log(`${lines.join('\n')}\n\n(${((Date.now() - started) / 1_000).toFixed(0)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
