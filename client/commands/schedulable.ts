// What `etl schedule create <what>` can schedule: each entry names the workflow a schedule starts
// and how its one input object is built from config and the command's flags. Add an entry here
// (and nothing else in the schedule code) to make a new workflow schedulable.
import type { Config } from '../../lib/config';
import type { PipelineInput } from '../../workflows';

export interface ScheduleTarget {
  stream: string;
}

export interface Schedulable {
  workflowType: string;
  description: string;
  input(config: Config, target: ScheduleTarget): unknown;
}

export const SCHEDULABLE: Readonly<Record<string, Schedulable>> = {
  pipeline: {
    workflowType: 'pipelineWorkflow',
    description: 'archive -> transform -> load -> quality of everything in the stream\'s topic',
    input: (config, t): PipelineInput => ({ stream: t.stream, objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY }),
  },
};

export const SCHEDULABLE_NAMES = Object.keys(SCHEDULABLE);
