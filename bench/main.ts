import { clusterBench } from './cluster.bench';
import { localCacheBench } from './local-cache.bench';
import { readYourWritesBench } from './read-your-writes.bench';
import { sessionStoreBench } from './session-store.bench';

/** `npm run bench`: every benchmark, each printing ratios measured side by side in this run. */
async function main(): Promise<void> {
  console.log(
    `nestjs-cluster-session benchmarks — node ${process.version}, ${new Date().toISOString()}\n`,
  );
  for (const bench of [localCacheBench, sessionStoreBench, clusterBench, readYourWritesBench]) {
    console.log((await bench()).join('\n'), '\n');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
