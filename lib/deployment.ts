// Ids Temporal keeps unique per namespace — schedules, the continuous stream's workflow, a replay's
// workflow, run ids — are scoped to the deployment, so two deployments sharing a namespace (a dev
// and a staging setup with their own task queue or topic prefix) never take each other's. The
// default deployment keeps the plain, readable ids: `pipeline-transactions`, `stream-transactions`.
import { configSchema, type Config } from './config';

type DeploymentConfig = Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'KAFKA_TOPIC_PREFIX'>;

const DEFAULT_TASK_QUEUE = configSchema.shape.TEMPORAL_TASK_QUEUE.parse(undefined);
const DEFAULT_TOPIC_PREFIX = configSchema.shape.KAFKA_TOPIC_PREFIX.parse(undefined);

/**
 * What tells this deployment from another in the same namespace: '' for the default one, else its
 * task queue, and its topic prefix when it has one (`staging`, `etl+dev.`, `staging+staging-`).
 * No `/`: ids go into Web UI paths.
 */
export function deploymentScope(cfg: DeploymentConfig): string {
  if (cfg.TEMPORAL_TASK_QUEUE === DEFAULT_TASK_QUEUE && cfg.KAFKA_TOPIC_PREFIX === DEFAULT_TOPIC_PREFIX) return '';
  return cfg.KAFKA_TOPIC_PREFIX === DEFAULT_TOPIC_PREFIX ? cfg.TEMPORAL_TASK_QUEUE : `${cfg.TEMPORAL_TASK_QUEUE}+${cfg.KAFKA_TOPIC_PREFIX}`;
}

/** `base` for the default deployment, `base@<scope>` for any other: the one way every fixed id is made. */
export function scopedId(cfg: DeploymentConfig, base: string): string {
  const scope = deploymentScope(cfg);
  return scope ? `${base}@${scope}` : base;
}

/** The id without this deployment's scope; undefined when it is scoped to another deployment. */
export function unscopedId(cfg: DeploymentConfig, id: string): string | undefined {
  const scope = deploymentScope(cfg);
  if (scope) return id.endsWith(`@${scope}`) ? id.slice(0, -(scope.length + 1)) : undefined;
  return id.includes('@') ? undefined : id;
}

/** Kept in each schedule's memo: which deployment created it and for which stream, so listings show their own. */
export interface DeploymentMemo {
  etlTaskQueue: string;
  etlTopicPrefix: string;
  etlStream: string;
}

export const deploymentMemo = (cfg: DeploymentConfig, stream: string): DeploymentMemo => ({
  etlTaskQueue: cfg.TEMPORAL_TASK_QUEUE,
  etlTopicPrefix: cfg.KAFKA_TOPIC_PREFIX,
  etlStream: stream,
});

/** Whether a schedule (by its memo, or its id when it has no memo of ours) belongs to this deployment. */
export function ownsSchedule(cfg: DeploymentConfig, id: string, memo: Record<string, unknown> | undefined): boolean {
  if (typeof memo?.etlTaskQueue === 'string' && typeof memo.etlTopicPrefix === 'string') {
    return memo.etlTaskQueue === cfg.TEMPORAL_TASK_QUEUE && memo.etlTopicPrefix === cfg.KAFKA_TOPIC_PREFIX;
  }
  return unscopedId(cfg, id) !== undefined;
}
