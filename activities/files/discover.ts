// Discovery: the files at a location become versions in source_files, each identified by its
// location plus a content identity — ETag and size for S3, SHA-256 and size for a local file (its
// size and mtime spare re-hashing a file seen before). A version seen before is never read again;
// a file whose content changed under the same name is registered as the next version.
import { Context } from '@temporalio/activity';
import { fileSourceRoots } from '../../lib/file-roots';
import { listFiles, localPathOf, parseLocation, sha256OfFile, withinRoots } from '../../lib/files';
import { withS3Errors } from '../../lib/s3';
import type { ActivityDeps } from '../deps';
import type { SourceDiscovered, SourceDiscoverInput } from '../source-types';
import { formatOfName, FILE_FORMATS, type FileFormat } from './format';
import { registerVersion, versionByStat, type FileVersion } from './manifest';

const UNSUPPORTED_NAMES = 10;

export async function discoverFiles(deps: ActivityDeps, input: SourceDiscoverInput): Promise<SourceDiscovered> {
  const { pool, s3, config } = deps;
  const ctx = Context.current();
  const forced = input.options?.format as FileFormat | undefined;
  const location = await withinRoots(parseLocation(input.location), fileSourceRoots(config));
  const found = await withS3Errors(config.S3_ENDPOINT, () => listFiles(location, s3));
  const out: SourceDiscovered = {
    seen: found.length,
    new: 0,
    changed: 0,
    alreadyLoaded: 0,
    pending: 0,
    failedBefore: 0,
    unsupported: 0,
    unsupportedNames: [],
  };
  const count = (row: FileVersion, created: boolean) => {
    if (created) {
      out.new++;
      if (row.version > 1) out.changed++;
    } else if (row.status === 'read') out.alreadyLoaded++;
    else if (row.status === 'new') out.pending++;
    else out.failedBefore++;
  };
  for (const f of found) {
    ctx.heartbeat({ discovered: out.new + out.alreadyLoaded + out.pending + out.failedBefore + out.unsupported });
    const named = formatOfName(f.name);
    const format = forced && FILE_FORMATS.includes(forced) ? forced : named.format;
    if (!format) {
      out.unsupported++;
      if (out.unsupportedNames.length < UNSUPPORTED_NAMES) out.unsupportedNames.push(f.location);
      continue;
    }
    const base = {
      stream: input.stream,
      location: f.location,
      format,
      compression: named.compression,
      size: f.size,
      modifiedMs: f.modifiedMs,
    };
    const local = localPathOf(f.location);
    if (local === undefined) {
      const r = await registerVersion(pool, {
        ...base,
        identity: `etag:${f.etag}:size:${f.size}`,
        etag: f.etag,
        workflowId: input.workflowId,
      });
      count(r.row, r.created);
      continue;
    }
    const same = await versionByStat(pool, input.stream, f.location, f.size, f.modifiedMs);
    if (same) {
      count(same, false);
      continue;
    }
    let hashed = 0;
    const sha256 = await sha256OfFile(local, (n) => {
      hashed += n;
      if (hashed >= 64 * 1024 * 1024) {
        hashed = 0;
        ctx.heartbeat();
      }
    });
    const r = await registerVersion(pool, { ...base, identity: `sha256:${sha256}:size:${f.size}`, sha256, workflowId: input.workflowId });
    count(r.row, r.created);
  }
  return out;
}
