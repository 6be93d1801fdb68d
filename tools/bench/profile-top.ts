// `tsx tools/bench/profile-top.ts <file.cpuprofile> [n]`: the functions with the most self time in a V8
// CPU profile (what `bench --cpu-prof` writes), grouped by function and file, as a quick flame summary.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }) })),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

const [file, n = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx tools/bench/profile-top.ts <file.cpuprofile> [n]');
  process.exit(2);
}
const profile = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const f = frames.get(id);
  const us = profile.timeDeltas[i] ?? 0;
  total += us;
  const key = f
    ? `${f.functionName || '(anonymous)'}  ${f.url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/\/work\/main\//, '')}:${f.lineNumber + 1}`
    : '?';
  self.set(key, (self.get(key) ?? 0) + us);
});
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
console.log(`total ${(total / 1e6).toFixed(1)} s sampled`);
for (const [key, us] of top) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${key}`);
