import { saturationBench } from './saturation.bench';

/**
 * Only the saturation benchmark: `node dist/bench/saturation.main.js` (about 5 minutes), or
 * with `--quick` one mix (20 % writes) and 1 s replays, to try a change.
 */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const { lines } = await saturationBench(quick ? { shares: [0.2], seconds: 1 } : {});
  console.log(`${lines.join('\n')}\n\n(${((Date.now() - started) / 1_000).toFixed(0)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
