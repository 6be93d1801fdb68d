// `etl ingest files <stream> <location>`: load the JSONL and CSV files at a local path or an S3
// prefix now, through a source run on the worker (workflows/source.ts) — the same run
// `etl schedule create files` starts on a schedule. Files already loaded are skipped; a file that
// changed is loaded as a new version and the summary says so.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type pg from 'pg';
import { FILE_FORMATS, formatOfName } from '../../activities/files/format';
import { buildClients } from '../../lib/clients';
import { loadConfig, temporalUiUrl, type Config } from '../../lib/config';
import { scopedId } from '../../lib/deployment';
import { EtlError } from '../../lib/errors';
import { fileSourceRoots, type FileRoots } from '../../lib/file-roots';
import { parseLocation, withinRoots } from '../../lib/files';
import { withPostgresErrors } from '../../lib/postgres';
import { connectClient, readableWorkflowId } from '../../lib/temporal';
import { streamNames } from '../../streams';
import type { SourceInput, SourceProgress, SourceResult } from '../../workflows';
import { fmt, formatTable, sayErr, waitWithProgress, type Say } from '../output';
import { hasWorker } from './pipeline';
import { failureError, failureLine, settle } from './run-outcome';

/**
 * A location as the worker must see it: s3:// as given, a local path made absolute (and checked,
 * unless a glob). One outside FILE_SOURCE_ROOTS is refused here already, before anything is read
 * (the worker checks again with its own roots).
 */
export async function resolveFileLocation(location: string, format: string | undefined, roots: FileRoots): Promise<string> {
  if (location.startsWith('s3://')) {
    await withinRoots(parseLocation(location), roots);
    return location;
  }
  const absolute = path.resolve(location.startsWith('file://') ? location.slice('file://'.length) : location);
  const parsed = await withinRoots(parseLocation(absolute), roots);
  if (parsed.kind === 'local' && !parsed.glob) {
    const s = await stat(absolute).catch(() => undefined);
    if (!s) throw new EtlError('USAGE', `no file or folder at ${absolute}`);
    if (s.isFile() && !format && !formatOfName(absolute).format)
      throw new EtlError(
        'USAGE',
        `cannot tell the format of ${path.basename(absolute)} by its name; give --format ${FILE_FORMATS.join('|')}`,
      );
  }
  return absolute;
}

export function filesInput(config: Config, stream: string, location: string, format?: string): SourceInput {
  return {
    source: 'files',
    stream,
    location,
    ...(format ? { options: { format } } : {}),
    objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY,
  };
}

export interface FileVersionRow {
  id: number;
  location: string;
  version: number;
  status: string;
  format: string;
  compression: string;
  records: number | null;
  objects: number | null;
  error: string | null;
}

/** The versions a run registered, for its summary. */
export async function versionsOfRun(pool: pg.Pool, workflowId: string): Promise<FileVersionRow[]> {
  const { rows } = await pool.query<FileVersionRow>(
    `SELECT id, location, version, status, format, compression, record_count::int AS records, object_count AS objects,
            CASE WHEN error_code IS NULL THEN NULL ELSE error_code || ': ' || error_message END AS error
     FROM source_files WHERE discovered_by = $1 ORDER BY location, version`,
    [workflowId],
  );
  return rows;
}

export interface FilesSummary {
  workflowId: string;
  url: string;
  files: {
    seen: number;
    new: number;
    changed: number;
    skippedAlreadyLoaded: number;
    resumed: number;
    unsupported: number;
    unreadable: number;
    failed: number;
  };
  records: number;
  loaded: number;
  duplicates: number;
  quarantined: number;
  objects: number;
  qualityPassed: boolean;
  versions: FileVersionRow[];
  unsupported: string[];
  unreadable: { location: string; reason: string }[];
}

export function summarize(workflowId: string, url: string, r: SourceResult, versions: FileVersionRow[]): FilesSummary {
  const d = r.discovered;
  return {
    workflowId,
    url,
    files: {
      seen: d?.seen ?? 0,
      new: d?.new ?? 0,
      changed: d?.changed ?? 0,
      skippedAlreadyLoaded: d?.alreadyLoaded ?? 0,
      resumed: d?.pending ?? 0,
      unsupported: d?.unsupported ?? 0,
      unreadable: d?.unreadable ?? 0,
      failed: r.unitsFailed,
    },
    records: r.recordsArchived,
    loaded: r.rowsInserted,
    duplicates: r.duplicates,
    quarantined: r.quarantined,
    objects: r.objectsArchived,
    qualityPassed: r.quality.passed,
    versions,
    unsupported: d?.unsupportedNames ?? [],
    unreadable: d?.unreadableFiles ?? [],
  };
}

export function formatFilesSummary(s: FilesSummary): string {
  const f = s.files;
  const lines = [
    `files: ${fmt(f.seen)} seen, ${fmt(f.new)} new (${fmt(f.changed)} changed since loaded: new versions), ${fmt(f.skippedAlreadyLoaded)} skipped as already loaded` +
      (f.resumed ? `, ${fmt(f.resumed)} left unread by an earlier run` : '') +
      (f.unsupported ? `, ${fmt(f.unsupported)} of no known format` : '') +
      (f.unreadable ? `, ${fmt(f.unreadable)} UNREADABLE` : '') +
      (f.failed ? `, ${fmt(f.failed)} failed` : ''),
    `records: ${fmt(s.records)} read into ${fmt(s.objects)} bronze objects; ${fmt(s.loaded)} loaded, ${fmt(s.duplicates)} duplicates, ${fmt(s.quarantined)} quarantined`,
    `quality: ${s.qualityPassed ? 'passed' : 'FAILED (etl report)'}`,
  ];
  if (s.versions.length > 0) {
    lines.push(
      '',
      formatTable(
        ['file', 'version', 'format', 'status', 'records'],
        s.versions.map((v) => [
          v.location,
          v.version > 1 ? `${v.version} (changed)` : String(v.version),
          `${v.format}${v.compression === 'gzip' ? '.gz' : ''}`,
          v.error ?? v.status,
          v.records === null ? '-' : fmt(v.records),
        ]),
      ),
    );
  }
  for (const u of s.unsupported) lines.push(`skipped (no known format; --format sets one): ${u}`);
  for (const u of s.unreadable) lines.push(`cannot be read: ${u.location}: ${u.reason}`);
  if (f.unreadable > s.unreadable.length)
    lines.push(`cannot be read: ${fmt(f.unreadable - s.unreadable.length)} more (the worker's log names each)`);
  return lines.join('\n');
}

export function registerIngestCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  const STREAM_NAMES = streamNames();
  const ingest = program.command('ingest').description('load data from sources other than Kafka');
  ingest
    .command('files')
    .description('load JSONL/NDJSON and CSV files (optionally .gz) from a local path or an S3 prefix, each file version exactly once')
    .addArgument(program.createArgument('<stream>', 'stream the files hold').choices(STREAM_NAMES))
    .argument('<location>', 'a file, a folder (read recursively), a quoted glob, or s3://bucket/prefix/')
    .addOption(new Option('--format <format>', 'read every file as this format (default: by extension)').choices(FILE_FORMATS))
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      '\nFormats by extension: .jsonl, .ndjson, .csv, each optionally .gz (gzip is also recognised by its bytes).\n' +
        'A file already loaded is skipped; one that changed is loaded as a new version. Needs a running worker\n' +
        'that can read the path. To watch a landing prefix: `etl schedule create files --location s3://… --every 5m`.\n' +
        'How CSV cells are typed and what lands where: docs/files.md.\n\n' +
        'Examples:\n  $ etl ingest files transactions ./exports/\n  $ etl ingest files transactions "./exports/*.csv.gz" --json\n' +
        '  $ etl ingest files transactions s3://landing/transactions/',
    )
    .action(async (stream: string, location: string, o: { format?: string; json?: boolean }) => {
      const config = loadConfig();
      const resolved = await resolveFileLocation(location, o.format, fileSourceRoots(config));
      const client = await connectClient(config);
      try {
        const handle = await client.workflow.start('sourceWorkflow', {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          workflowId: scopedId(config, readableWorkflowId('files', stream)),
          args: [filesInput(config, stream, resolved, o.format)],
        });
        const url = temporalUiUrl(config, handle.workflowId);
        sayErr(`started ${handle.workflowId}: ${url}`);
        if (!(await hasWorker(client, config)))
          sayErr(
            `warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the run waits until one does — start it with \`etl worker\``,
          );
        const outcome = await settle(
          waitWithProgress<SourceProgress, SourceResult>(handle, 'files', (p) => {
            const d = p.discovered;
            if (!d) return undefined;
            return { done: p.unitsRead + p.objectsLoaded, total: d.new + d.pending + p.objectsArchived };
          }),
        );
        const failure = outcome.ok ? undefined : outcome.failure;
        // A run that failed before it had totals (its discovery refused or failed) attaches none: only the failure is said.
        const attached = outcome.ok ? undefined : (outcome.failure.result as Partial<SourceResult> | undefined);
        const result = outcome.ok ? outcome.result : attached?.quality ? (attached as SourceResult) : undefined;
        if (!result) throw failureError(failure!, url);
        const clients = buildClients(config);
        let summary: FilesSummary;
        try {
          const versions = await withPostgresErrors(config.DATABASE_URL, () => versionsOfRun(clients.pool, handle.workflowId));
          summary = summarize(handle.workflowId, url, result, versions);
        } finally {
          await clients.close();
        }
        say(o.json ? JSON.stringify(failure ? { ...summary, failure } : summary, null, 2) : formatFilesSummary(summary));
        if (failure) sayErr(failureLine(failure, url));
        if (failure || !result.quality.passed) setExitCode(1);
      } finally {
        await client.connection.close();
      }
    });
}
