import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capacityBench } from './capacity.bench';
import { clusterHttpBench } from './cluster-http.bench';
import { clusterBench } from './cluster.bench';
import { eagerLoadBench } from './eager-load.bench';
import { httpBench } from './http.bench';
import { localCacheBench } from './local-cache.bench';
import { memoryBench } from './memory.bench';
import { readYourWritesBench } from './read-your-writes.bench';
import { redisClusterBench } from './redis-cluster.bench';
import { saturationBench } from './saturation.bench';
import { sessionStoreBench } from './session-store.bench';
import { httpChart } from './support/svg-chart';

const RESULTS = join(__dirname, '..', '..', 'bench', 'results');

/**
 * `npm run bench`: every benchmark, each measuring what it compares side by side in this run.
 * Prints the figures and writes bench/results/latest.md and bench/results/http.svg.
 */
async function main(): Promise<void> {
  const header = `nestjs-cluster-session benchmarks — node ${process.version}, ${new Date().toISOString()}`;
  console.log(`${header}\n`);
  const sections: string[] = [];
  const emit = (title: string, lines: string[]) => {
    console.log(`${lines.join('\n')}\n`);
    sections.push(
      `## ${title}\n\n${lines.some((line) => line.startsWith('|')) ? lines.join('\n') : ['```', ...lines, '```'].join('\n')}`,
    );
  };
  emit('Micro: local cache', await localCacheBench());
  emit('Micro: session save', await sessionStoreBench());
  const http = await httpBench();
  emit('HTTP: against express-session + connect-redis and the no-session ceiling', http.lines);
  emit('Several nodes on one Redis: Redis CPU per request', (await capacityBench()).lines);
  emit(
    'Capacity at saturation: one Redis core, 4 nodes, random routing',
    (await saturationBench()).lines,
  );
  emit(
    'HTTP: what loading the session before middleware costs a sessionless route',
    await eagerLoadBench(),
  );
  emit('Cluster: three sample processes', await clusterHttpBench());
  emit('Cluster: propagation between two processes, commands per read', await clusterBench());
  emit('Read-your-writes across nodes (G9)', await readYourWritesBench());
  emit('Redis Cluster: classic PUBLISH', await redisClusterBench());
  emit('Memory', await memoryBench());

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'http.svg'), `${httpChart(http.rows)}\n`);
  writeFileSync(
    join(RESULTS, 'latest.md'),
    `# Latest benchmark run\n\n${header}. Produced by \`npm run bench\`; method in BENCHMARKS.md.\n\n` +
      `![HTTP figures](http.svg)\n\n${sections.join('\n\n')}\n`,
  );
  console.log(`written: ${join(RESULTS, 'latest.md')}, ${join(RESULTS, 'http.svg')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
