// Which reader a file gets: by its name (.jsonl, .ndjson, .csv, each optionally .gz) unless the
// caller says (--format); gzip is also recognised by its first bytes, whatever the name says.
export const FILE_FORMATS = ['jsonl', 'csv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
export type Compression = 'none' | 'gzip';

const BY_EXTENSION: Record<string, FileFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };

/** Format and compression a file name says; format undefined when the name does not tell. */
export function formatOfName(name: string): { format: FileFormat | undefined; compression: Compression } {
  const lower = name.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -'.gz'.length) : lower;
  const dot = base.lastIndexOf('.');
  return { format: dot < 0 ? undefined : BY_EXTENSION[base.slice(dot)], compression: gzip ? 'gzip' : 'none' };
}

/** gzip's magic bytes (RFC 1952): 1f 8b. */
export const isGzip = (head: Uint8Array) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** The topic column of a file object's manifest row (migration 015): never a Kafka topic name. */
export const fileTopic = (stream: string) => `files:${stream}`;
