// What a V8 CPU profile (.cpuprofile, as `node --cpu-prof` and cpu-prof-hook.mjs write them) says
// in a few lines: self time per part of the pipeline (a stage folder, a client library, zlib, GC)
// and the functions with the most self time. The bench names a missed target's bound from it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export interface ProfileSummary {
  files: string[];
  /** Seconds sampled over every file (threads and processes added up). */
  sampled_s: number;
  /** Share of the busy (non-idle) time per part, largest first (self time: where the CPU was). */
  parts: Array<{ part: string; share: number }>;
  /**
   * Share of the busy time per stage: each sample counts for the innermost activities/<stage>/ frame
   * of its stack (so zlib, zod or kafkajs called by the archive count as archive), else its part.
   */
  stages: Array<{ stage: string; share: number }>;
  /** Share of the busy time of the functions with the most self time. */
  top: Array<{ fn: string; share: number }>;
  /** Share of the sampled time the threads were idle (waiting on servers or on nothing). */
  idle_share: number;
}

/** Where a frame's code lives, as a part of the pipeline a reader recognises. */
export function partOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)' || url === '') return 'V8 / native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    if (pkg === 'kafkajs') return 'Kafka client (kafkajs)';
    if (pkg.startsWith('@temporalio')) return 'Temporal SDK';
    if (pkg.startsWith('@aws-sdk') || pkg.startsWith('@smithy')) return 'S3 client';
    if (/^pg($|-)/.test(pkg)) return 'PostgreSQL client';
    if (pkg === 'zod') return 'zod (validation)';
    if (pkg === 'tsx' || pkg === 'esbuild') return 'tsx (transpiling)';
    return pkg;
  }
  if (url.startsWith('node:zlib') || url.includes('internal/zlib')) return 'zlib (node:zlib)';
  if (url.startsWith('node:')) return 'Node.js core';
  const own = /\/(activities\/[^/]+|streams|lib|workflows|worker|tools\/bench)\//.exec(url)?.[1];
  return own ? `${own}/` : 'other';
}

export function summarizeProfiles(files: readonly string[], topN = 8): ProfileSummary {
  const parts = new Map<string, number>();
  const stages = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stageOf = new Map<number, string | null>();
    const innermostStage = (id: number): string | null => {
      const known = stageOf.get(id);
      if (known !== undefined) return known;
      const url = frames.get(id)?.url ?? '';
      const own = /\/(activities\/[^/]+)\//.exec(url)?.[1];
      const p = parent.get(id);
      const found = own ? `${own}/` : p === undefined ? null : innermostStage(p);
      stageOf.set(id, found);
      return found;
    };
    profile.samples.forEach((id, i) => {
      const f = frames.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      total += us;
      const part = f ? partOf(f.url, f.functionName) : 'other';
      parts.set(part, (parts.get(part) ?? 0) + us);
      if (part !== 'idle') {
        const stage = innermostStage(id) ?? (part === 'garbage collection' ? part : `outside the stages: ${part}`);
        stages.set(stage, (stages.get(stage) ?? 0) + us);
      }
      if (f && part !== 'idle') {
        const where = f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(activities|streams|lib|tools)\//, '$1/');
        const key = `${f.functionName || '(anonymous)'} ${where}${where ? `:${f.lineNumber + 1}` : ''}`;
        fns.set(key, (fns.get(key) ?? 0) + us);
      }
    });
  }
  const idle = parts.get('idle') ?? 0;
  parts.delete('idle');
  const busy = total - idle;
  const ranked = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    files: [...files],
    sampled_s: total / 1e6,
    idle_share: total > 0 ? idle / total : NaN,
    parts: ranked(parts).map(([part, us]) => ({ part, share: us / busy })),
    stages: ranked(stages).map(([stage, us]) => ({ stage, share: us / busy })),
    top: ranked(fns)
      .slice(0, topN)
      .map(([fn, us]) => ({ fn, share: us / busy })),
  };
}

/** Every .cpuprofile in `dir` whose name starts with `prefix`. */
export function profilesIn(dir: string, prefix = ''): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

/** "CPU profile (… idle 3%; busy time by stage: …; by part: Kafka client 41%, …; top functions: fn 12%, …)" */
export function describeProfile(p: ProfileSummary | null | undefined, parts = 5, fns = 3): string {
  if (!p || p.files.length === 0) return 'no CPU profile in this run';
  const byStage = p.stages.filter((x) => x.stage.startsWith('activities/'));
  return (
    `CPU profile (${p.sampled_s.toFixed(0)} s sampled, idle ${pct(p.idle_share)}; ` +
    (byStage.length
      ? `busy time by stage, synchronous callees included: ${byStage
          .slice(0, 4)
          .map((x) => `${x.stage} ${pct(x.share)}`)
          .join(', ')}; `
      : '') +
    `by part: ` +
    `${p.parts
      .slice(0, parts)
      .map((x) => `${x.part} ${pct(x.share)}`)
      .join(', ')}; top functions: ${p.top
      .slice(0, fns)
      .map((x) => `${x.fn} ${pct(x.share)}`)
      .join(', ')})`
  );
}
