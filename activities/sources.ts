// Sources that are not Kafka: each kind says how it finds its units of data (discover), which of
// them are still to read (listUnread) and how one is read into bronze objects (read), exactly once
// each through the manifest. The source workflow (workflows/source.ts) is written against this
// interface only, so a new kind (an HTTP API, a database table) is one more entry in SOURCES and
// no workflow changes. Kafka itself stays with the range archiver (archive/): its unit is an offset
// range cut while it streams, not a discovered unit. The market-data polls (poll/) are producers
// into the ticks topic, upstream of Kafka, so they are not a source of this kind.
import { EtlError } from '../lib/errors';
import type { SourceKind } from './source-types';
import { discoverFiles } from './files/discover';
import { giveUpVersion, unreadVersions } from './files/manifest';
import { readFileVersion } from './files/read';

export type * from './source-types';

export const SOURCES: Readonly<Record<string, SourceKind>> = {
  files: {
    description: 'JSONL/NDJSON and CSV files (optionally gzip) from a local path or an S3 prefix',
    discover: discoverFiles,
    listUnread: (deps, input) => unreadVersions(deps.pool, input.stream, input.limit, input.afterId),
    read: readFileVersion,
    giveUp: (deps, input) => giveUpVersion(deps.pool, input.unitId, input.code, input.message),
  },
};

export const SOURCE_KINDS = Object.keys(SOURCES);

export function getSource(kind: string): SourceKind {
  const s = SOURCES[kind];
  if (!s) throw new EtlError('USAGE', `unknown source kind ${JSON.stringify(kind)}; known: ${SOURCE_KINDS.join(', ')}`);
  return s;
}
