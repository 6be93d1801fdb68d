// What a source kind (activities/sources.ts) takes and returns: small, JSON-safe, counts and ids only.
import type { SourceDiscovered } from '../shared/discovery';
import type { ActivityDeps } from './deps';

export type { SourceDiscovered } from '../shared/discovery';

export interface SourceDiscoverInput {
  /** A key of SOURCES. */
  source: string;
  stream: string;
  /** Where to look, in the kind's own terms (files: a local path or s3://bucket/prefix/). */
  location: string;
  /** The kind's options (files: format). */
  options?: Record<string, unknown>;
  workflowId?: string;
  /** Where the previous call of this discovery stopped (its result's cursor); absent: from the start. */
  cursor?: string;
}

/** One call's share of a discovery: counts so far, and where the next call goes on (absent: the listing is done). */
export interface SourceDiscoveredPage extends SourceDiscovered {
  cursor: string | undefined;
}

export interface SourceUnit {
  unitId: number;
  location: string;
  bytes: number;
}

export interface SourceReadInput {
  source: string;
  stream: string;
  unitId: number;
  /** Records per bronze object at most (default ARCHIVE_MAX_RECORDS_PER_OBJECT). */
  maxRecordsPerObject?: number;
}

export interface SourceUnitRead {
  unitId: number;
  /** Read before this call (another run, or an attempt that finished): the counts are the manifest's. */
  alreadyRead: boolean;
  records: number;
  objects: number;
  failed?: { code: string; message: string };
}

export interface SourceKind {
  description: string;
  /** A bounded step of discovery: call again with its cursor until the cursor is absent. */
  discover(deps: ActivityDeps, input: SourceDiscoverInput): Promise<SourceDiscoveredPage>;
  /** Units not read yet with an id above afterId, oldest first. */
  listUnread(deps: ActivityDeps, input: { stream: string; limit: number; afterId: number }): Promise<SourceUnit[]>;
  read(deps: ActivityDeps, input: SourceReadInput): Promise<SourceUnitRead>;
  /** Marks a unit given up for good (its attempts were lost: activities/attempts.ts), with the reason. */
  giveUp(deps: ActivityDeps, input: { unitId: number; code: string; message: string }): Promise<void>;
}
