// Temporal's test environment for the workflow tests: a private dev server (the local stack's own
// Temporal CLI, no download) on a free port, the real workflow code (worker/workflow-code.ts), and a
// worker per test on its own task queue with stub activities. No Kafka, S3 or PostgreSQL.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { stackPaths } from '../../client/stack/paths';
import { loadConfig } from '../../lib/config';
import { ensureSearchAttributes } from '../../lib/search-attributes';
import { workflowBundle } from '../../worker/workflow-code';

/** The Temporal CLI that `etl stack up` installs (and links into the state dir's bin/). */
export function temporalCli(): string {
  const cli = path.join(stackPaths(loadConfig()).bin, 'temporal');
  if (!existsSync(cli)) throw new Error(`no Temporal CLI at ${cli}: run \`etl stack up\` once to install it`);
  return cli;
}

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundle;
  teardown(): Promise<void>;
}

export interface WorkflowEnvOptions {
  /** Server knobs (values as JSON), e.g. a low history length at which Temporal suggests continue-as-new. */
  dynamicConfig?: Record<string, unknown>;
  /** The SDK's log level: 'ERROR' where failing activities are the point of the test. */
  sdkLogLevel?: 'WARN' | 'ERROR';
}

/** Starts a dev server and loads the workflow bundle. */
export async function startWorkflowEnv({ dynamicConfig = {}, sdkLogLevel = 'WARN' }: WorkflowEnvOptions = {}): Promise<WorkflowTestEnv> {
  // Workers starting and stopping per test would fill the output; warnings and errors still show.
  Runtime.install({ logger: new DefaultLogger(sdkLogLevel) });
  const extraArgs = Object.entries(dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCli() },
        ip: '127.0.0.1',
        log: { format: 'pretty', level: 'error' },
        extraArgs,
      },
    }),
    workflowBundle(),
  ]);
  // The workflows show their stage and counts as search attributes; the worker registers them the same way.
  await ensureSearchAttributes(env.nativeConnection, env.namespace ?? 'default');
  return { env, bundle, teardown: () => env.teardown() };
}

/** The activities a workflow under test may call: each stub has the real one's signature. */
export type StubActivities = Partial<Activities>;

/**
 * Runs `fn` while a worker with `activities` polls a task queue of its own. Heartbeats go out
 * every 50 ms, so a cancelled activity (the stream's follower) learns of it at once.
 */
export async function withWorker<R>(t: WorkflowTestEnv, activities: StubActivities, fn: (taskQueue: string) => Promise<R>): Promise<R> {
  const taskQueue = `wf-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: t.env.nativeConnection,
    namespace: t.env.namespace ?? 'default',
    taskQueue,
    workflowBundle: t.bundle,
    activities,
    maxHeartbeatThrottleInterval: '50 ms',
    defaultHeartbeatThrottleInterval: '50 ms',
  });
  return worker.runUntil(fn(taskQueue));
}

/** A unique workflow id, so no test sees another's runs. */
export const workflowId = (name: string) => `${name}-${randomUUID()}`;

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

/** A promise the test resolves: how a stub activity is held at a chosen point. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits for what a stub records or the workflow shows (an activity started, a stage reached), failing with `what` after `timeoutMs`. */
export async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
