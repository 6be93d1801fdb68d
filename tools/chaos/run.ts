// runChaos: the whole fault-injection run on the local stack. It produces a known mix of events
// while pipeline runs follow one another on a task queue of its own, served by `etl worker` as a
// child process; meanwhile it SIGKILLs that worker during archive, transform and load and restarts
// each server once. The last quarter of the records is written only as faults need work and once
// they are all done, so the pipeline cannot drain before the last one, however fast it runs. When
// the pipeline has drained it reconciles everything against the expectation and removes what it
// created.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildClients } from '../../lib/clients';
import type { Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { setupAll } from '../../lib/setup';
import { connectClient } from '../../lib/temporal';
import { streamTopics, topicFor } from '../../streams';
import { stackUp } from '../../client/stack';
import { describe } from '../../client/stack/health';
import { PipelineDriver } from './driver';
import { FaultInjector, planFaults } from './faults';
import { retriedActivities, type RetriedActivity } from './history';
import { configEnv, isolatedConfig, removeIsolated } from '../../test/support/isolation';
import { withDefaults, type ChaosOptions } from './options';
import { addRefusingConstraint, badKindOf, MixProducer, planMix } from './produce-mix';
import { ProgressProbe } from './progress';
import { reconcile } from './reconcile';
import { countBy, runSummary, type ChaosReport } from './report';
import { drained } from './storage-checks';
import { ChaosWorker } from './worker-proc';

const STREAM = 'transactions';
/** Share of the records held back until the faults are done (fed to faults that wait for work meanwhile). */
const HELD_SHARE = 0.25;

function validate(o: ChaosOptions): void {
  const bad = Math.round(o.events * o.badShare);
  const dup = Math.round(o.events * o.dupShare);
  if (o.badShare < 0 || o.dupShare < 0 || o.events - bad - dup < dup) {
    throw new EtlError(
      'USAGE',
      `--bad-share ${o.badShare} and --dup-share ${o.dupShare} leave fewer good events than duplicates of them; keep bad-share + 2 x dup-share <= 1`,
    );
  }
}

export async function runChaos(base: Config, partial: Partial<ChaosOptions> & Pick<ChaosOptions, 'events'>): Promise<ChaosReport> {
  const opts = withDefaults(partial);
  validate(opts);
  const began = Date.now();
  const config = isolatedConfig(base, 'chaos', undefined, { ARCHIVE_MAX_RECORDS_PER_OBJECT: opts.recordsPerObject });
  const id = config.TEMPORAL_TASK_QUEUE;
  const topic = topicFor(config.KAFKA_TOPIC_PREFIX, STREAM);
  const log = opts.log;
  const problems: string[] = [];
  const abort = new AbortController();
  opts.signal?.addEventListener('abort', () => abort.abort(), { once: true });

  const clients = buildClients({ ...config, LOG_LEVEL: 'warn' });
  const logDir = path.join(config.ETL_STATE_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const worker = new ChaosWorker(configEnv(config), path.join(logDir, `${id}-worker.log`), log);
  const killWorkerOnExit = () => worker.killNow();
  process.once('exit', killWorkerOnExit);
  let temporal: Awaited<ReturnType<typeof connectClient>> | undefined;
  let injector: FaultInjector | undefined;
  let faults: Promise<void> | undefined;
  let mix: MixProducer | undefined;
  let production: Promise<void> | undefined;
  let produced: { records: number; seconds: number } | undefined;
  let faultsDone: () => void = () => undefined;
  let passed = false;
  try {
    await setupAll(clients, streamTopics(config.KAFKA_TOPIC_PREFIX));
    await addRefusingConstraint(clients.pool);
    temporal = await connectClient(config);
    const plan = planMix(opts.events, opts.badShare, opts.dupShare, opts.seed);
    log(
      `isolated run ${id}: schema ${config.PG_SCHEMA}, topic ${topic}, ${opts.recordsPerObject} records per object; producing ${plan.events} records`,
    );

    const writer = new MixProducer(clients.kafka, config.KAFKA_BROKERS, topic, plan, abort.signal);
    mix = writer;
    const upFront = plan.events - Math.round(plan.events * HELD_SHARE);
    let allowed = upFront;
    const faultsOver = new Promise<void>((resolve) => (faultsDone = resolve));
    production = (async () => {
      await writer.upTo(upFront);
      await faultsOver;
      await writer.upTo(plan.events);
      produced = { records: writer.written, seconds: writer.seconds };
      log(`produced ${writer.written} records in ${writer.seconds.toFixed(1)} s`);
    })().catch((err: unknown) => {
      problems.push(`producing failed, so the expectation is unknown: ${describe(err)}`);
      abort.abort();
    });
    await worker.startRetrying();
    log(`worker started (${worker.identity})`);

    const driver = new PipelineDriver(temporal, config, {
      stream: STREAM,
      workflowIdPrefix: id,
      pollMs: opts.pollMs,
      signal: abort.signal,
      log,
      isDrained: async () => produced !== undefined && drained(clients, topic),
    });
    const progress = new ProgressProbe(clients.pool, () => `${driver.completions}|${driver.runs.filter((r) => r.endedAt).length}`);
    progress.start();
    injector = new FaultInjector({
      stackConfig: base,
      worker,
      driver,
      progress,
      options: opts,
      upFront,
      producerIdle: () => writer.idle && writer.written >= upFront,
      // The pipeline has settled every record written so far (each counts three steps): one more object's worth.
      feed: async () => {
        if (!writer.idle || allowed >= plan.events || progress.recordSteps < 3 * writer.written) return;
        allowed = Math.min(plan.events, allowed + opts.recordsPerObject);
        await writer.upTo(allowed);
      },
      began,
    });
    faults = injector
      .run(planFaults(opts.kills, opts.restarts))
      .catch((err: unknown) => {
        problems.push(`fault injection failed: ${describe(err)}`);
        abort.abort();
      })
      .finally(faultsDone);

    const outcome = await driver.runUntilDrained(began + opts.timeoutMs);
    const drainedAt = (Date.now() - began) / 1000;
    if (!outcome.drained) problems.push(`the pipeline did not drain: ${outcome.reason}`);
    else log(`pipeline drained after ${drainedAt.toFixed(1)} s`);
    injector.stop();
    await faults;
    await production;
    await progress.stop();
    await worker.stop();

    const reconcileStarted = Date.now();
    const retried: RetriedActivity[] = [];
    for (const run of driver.runs) retried.push(...(await retriedActivities(temporal, run.workflowId, run.firstRunId)));
    for (const k of injector.kills) {
      k.confirmed = k.killed.some((a) =>
        retried.some((r) => r.runId === a.runId && r.activityId === a.activityId && r.attempts > a.attempt),
      );
    }
    const completed = driver.runs.filter((r) => r.result);
    const rec = await reconcile(
      clients,
      plan,
      STREAM,
      topic,
      completed.at(-1)?.result?.quality,
      completed.filter((r) => !r.result!.quality.passed).length,
    );
    const reconcileS = (Date.now() - reconcileStarted) / 1000;

    for (const c of rec.checks.filter((x) => !x.passed)) {
      problems.push(
        `${c.name}: observed ${c.observed}, expected ${c.expected}${c.examples?.length ? ` (e.g. ${c.examples.join(', ')})` : ''}`,
      );
    }
    problems.push(...injector.shortfalls(opts.kills, opts.restarts));
    const { kills, restarts } = injector;

    passed = problems.length === 0;
    return {
      id,
      seed: opts.seed,
      passed,
      problems,
      produced: {
        records: produced?.records ?? 0,
        good: plan.good,
        bad: plan.bad,
        duplicates: plan.dup,
        seconds: produced?.seconds ?? 0,
        badByKind: countBy(
          Array.from({ length: plan.bad }, (_, k) => k),
          badKindOf,
        ),
      },
      loaded: rec.loaded,
      raw: rec.raw,
      quarantined: { total: rec.quarantined, byReason: rec.quarantinedByReason },
      deduplicated: rec.deduplicated,
      objects: rec.objects,
      orphans: rec.orphans,
      runs: driver.runs.map(runSummary),
      kills: {
        requested: opts.kills,
        done: kills.length,
        byActivity: countBy(
          kills.flatMap((k) => k.killed),
          (a) => a.type,
        ),
        list: kills,
      },
      restarts: { requested: opts.restarts, list: restarts },
      retried: { total: retried.length, byTypeAndCause: countBy(retried, (r) => `${r.type}/${r.cause}`), list: retried },
      workerExitsOnTheirOwn: worker.exits.filter((e) => !e.expected),
      checks: rec.checks,
      timings: {
        wallS: (Date.now() - began) / 1000,
        produceS: produced?.seconds ?? 0,
        drainedAtS: outcome.drained ? drainedAt : null,
        reconcileS,
      },
      isolated: { schema: config.PG_SCHEMA, topic, s3Prefix: config.S3_PREFIX, taskQueue: id, kept: opts.keep, workerLog: worker.logFile },
    };
  } finally {
    injector?.stop();
    await faults;
    // A run that ended early stops writing the held-back records.
    if (produced === undefined) abort.abort();
    faultsDone();
    await production;
    await mix?.close();
    await worker.stop(5_000);
    process.off('exit', killWorkerOnExit);
    // A restart that failed twice may have left a server down; try once more before leaving.
    if (injector?.restarts.some((r) => r.error)) await stackUp(base, { only: opts.restarts }).catch(() => undefined);
    if (!opts.keep) {
      const failed = await removeIsolated(clients);
      for (const f of failed) log(`cleanup: ${f}`);
      if (passed) rmSync(worker.logFile, { force: true });
    }
    await temporal?.connection.close().catch(() => undefined);
    await clients.close();
  }
}
