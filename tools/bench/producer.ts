// The producer under a CPU profile: one backlog produced by a process of its own started with
// `node --cpu-prof` (which profiles its worker threads too), so that the producer target's result
// can say where the time goes. Its rate is recorded beside the profile, not mixed into the
// unprofiled producer figures (the profiler costs a few percent).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../lib/config';
import { PROJECT_ROOT } from '../../lib/config';
import { benchEnv } from './env';
import { profilesIn, summarizeProfiles, type ProfileSummary } from './profile';
import { perSecond } from './stats';

const run = promisify(execFile);

export interface ProducerProfile {
  events: number;
  threads: number;
  events_per_s: number;
  profile: ProfileSummary;
}

export async function producerProfileRun(base: Config, events: number, seed: number, profDir: string): Promise<ProducerProfile> {
  const env = await benchEnv(base, 'prod');
  // A folder of its own: node names the files (one per thread), and every file in it is this run's.
  const dir = path.resolve(profDir, `producer-${env.id}`);
  mkdirSync(dir, { recursive: true });
  try {
    const { stdout } = await run(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '--import',
        'tsx',
        path.join(__dirname, 'produce-child.ts'),
        String(events),
        String(seed),
        String(Date.now() - 86_400_000),
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env.workerEnv, LOG_LEVEL: 'warn' }, maxBuffer: 1 << 20 },
    );
    const { ms } = JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number };
    return {
      events,
      threads: env.config.PRODUCER_THREADS,
      events_per_s: perSecond(events, ms),
      profile: summarizeProfiles(profilesIn(dir)),
    };
  } finally {
    await env.cleanup();
  }
}
