// Discovery: the files at a location become versions in source_files, each identified by its
// location plus a content identity — ETag and size for S3, SHA-256 and size for a local file (its
// size and mtime spare re-hashing a file seen before). A version seen before is never read again;
// a file whose content changed under the same name is registered as the next version.
// The listing goes a page at a time (each page registered in one transaction, a heartbeat after
// it); a call returns after DISCOVER_CALL_MS with the cursor the next call resumes from, so a
// prefix of any size is discovered in bounded steps that pass counts and a cursor, never a list.
import { Context } from '@temporalio/activity';
import { fileSourceRoots } from '../../lib/file-roots';
import { listFilePages, localPathOf, parseLocation, sha256OfFile, withinRoots, type FoundFile } from '../../lib/files';
import { withS3Errors } from '../../lib/s3';
import { NAMES_KEPT, nothingDiscovered, type SourceDiscovered } from '../../shared/discovery';
import type { ActivityDeps } from '../deps';
import type { SourceDiscoveredPage, SourceDiscoverInput } from '../source-types';
import { formatOfName, FILE_FORMATS, type FileFormat } from './format';
import { progressBeat } from './heartbeat';
import { registerVersions, versionsByStat, type FileVersion, type NewVersion } from './manifest';

/** A discovery call goes on to the next page of the listing until it has run this long. */
const DISCOVER_CALL_MS = 30_000;

export async function discoverFiles(deps: ActivityDeps, input: SourceDiscoverInput): Promise<SourceDiscoveredPage> {
  const { pool, s3, config } = deps;
  const ctx = Context.current();
  const started = Date.now();
  const forced = input.options?.format as FileFormat | undefined;
  const location = await withinRoots(parseLocation(input.location), fileSourceRoots(config));
  // A retried attempt goes on from its last page (registration is idempotent; the counts are the attempt's).
  const resumed = ctx.info.heartbeatDetails as { cursor: string; out: SourceDiscovered } | undefined;
  const out: SourceDiscovered = resumed?.out ?? nothingDiscovered();
  const count = (row: FileVersion, created: boolean) => {
    if (created) {
      out.new++;
      if (row.version > 1) out.changed++;
    } else if (row.status === 'read') out.alreadyLoaded++;
    else if (row.status === 'new') out.pending++;
    else out.failedBefore++;
  };
  const beat = progressBeat(ctx);
  const pages = listFilePages(location, s3, resumed?.cursor ?? input.cursor);
  for (;;) {
    const next = await withS3Errors(config.S3_ENDPOINT, () => pages.next());
    if (next.done) return { ...out, cursor: undefined };
    const page = next.value;
    out.seen += page.files.length + page.unreadable.length;
    for (const u of page.unreadable) {
      out.unreadable++;
      if (out.unreadableFiles.length < NAMES_KEPT) out.unreadableFiles.push(u);
      deps.logger.warn({ location: u.location, reason: u.reason }, 'file cannot be read');
    }
    const versions: NewVersion[] = [];
    const local: (FoundFile & { format: FileFormat; compression: NewVersion['compression'] })[] = [];
    for (const f of page.files) {
      const named = formatOfName(f.name);
      const format = forced && FILE_FORMATS.includes(forced) ? forced : named.format;
      if (!format) {
        out.unsupported++;
        if (out.unsupportedNames.length < NAMES_KEPT) out.unsupportedNames.push(f.location);
        continue;
      }
      if (localPathOf(f.location) === undefined)
        versions.push({ ...base(f, format, named.compression), identity: `etag:${f.etag}:size:${f.size}`, etag: f.etag });
      else local.push({ ...f, format, compression: named.compression });
    }
    const known = await versionsByStat(pool, input.stream, local);
    for (const f of local) {
      const same = known.get(f.location);
      if (same) {
        count(same, false);
        continue;
      }
      const sha256 = await sha256OfFile(localPathOf(f.location)!, (n) => beat.bytes(n, { hashing: f.location }));
      versions.push({ ...base(f, f.format, f.compression), identity: `sha256:${sha256}:size:${f.size}`, sha256 });
    }
    for (const r of await registerVersions(pool, input.stream, input.workflowId, versions)) count(r.row, r.created);
    beat.beat({ cursor: page.cursor, out });
    if (Date.now() - started >= DISCOVER_CALL_MS) {
      await pages.return(undefined);
      return { ...out, cursor: page.cursor };
    }
  }
}

const base = (f: FoundFile, format: FileFormat, compression: NewVersion['compression']) => ({
  location: f.location,
  format,
  compression,
  size: f.size,
  modifiedMs: f.modifiedMs,
});
