// Where file sources may read (FILE_SOURCE_ROOTS, docs/files.md "Where files may be read from"). A
// local path counts by where it really is: symbolic links are resolved (realpath) before the check,
// whether they come from a folder, a glob or the path given, so a link inside a root that points
// outside it is refused like the outside path itself. S3 locations are bound only once the list
// names an s3:// prefix; until then the S3 credentials' own policy is their bound.
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from './config';
import { EtlError } from './errors';

export interface FileRoots {
  /** Real absolute paths of folders. */
  local: readonly string[];
  /** s3:// prefixes (bucket and key prefix); undefined: the list names none, and S3 is not bound by it. */
  s3?: readonly { bucket: string; prefix: string }[];
}

const realOrResolved = (p: string) => {
  try {
    return realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
};

/** FILE_SOURCE_ROOTS as this process applies it; empty means its working directory and the OS temp directory. */
export function fileSourceRoots(config: Pick<Config, 'FILE_SOURCE_ROOTS'>): FileRoots {
  const entries = config.FILE_SOURCE_ROOTS.length > 0 ? config.FILE_SOURCE_ROOTS : [process.cwd(), tmpdir()];
  const s3 = entries
    .filter((e) => e.startsWith('s3://'))
    .map((e) => {
      const rest = e.slice('s3://'.length);
      const slash = rest.indexOf('/');
      const prefix = slash < 0 ? '' : rest.slice(slash + 1);
      return { bucket: slash < 0 ? rest : rest.slice(0, slash), prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix };
    });
  return {
    local: entries.filter((e) => !e.startsWith('s3://')).map(realOrResolved),
    ...(s3.length > 0 ? { s3 } : {}),
  };
}

const describeRoots = (roots: FileRoots) =>
  [...roots.local, ...(roots.s3 ?? []).map((r) => `s3://${r.bucket}/${r.prefix}`)].join(', ') || 'none';

const under = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);

function outside(what: string, roots: FileRoots): EtlError {
  return new EtlError(
    'FILE_OUTSIDE_ROOTS',
    `${what} is outside FILE_SOURCE_ROOTS (${describeRoots(roots)}): file sources read only under those; add a root to FILE_SOURCE_ROOTS or move the files under one`,
  );
}

/** Where an absolute path really is: symbolic links resolved, also for a path whose last parts do not exist yet. */
async function realPathOf(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(await realPathOf(parent), path.basename(p));
  }
}

/** Refuses a local path (a file, a folder, the fixed part of a glob) that is not really under a root; returns where it really is. */
export async function checkLocalPath(roots: FileRoots, p: string): Promise<string> {
  const real = await realPathOf(p);
  if (roots.local.some((root) => under(root, real))) return real;
  throw outside(real === p ? p : `${p} (a symbolic link to ${real})`, roots);
}

/** Refuses an S3 location outside the s3:// roots, when the list names any. */
export function checkS3Location(roots: FileRoots, bucket: string, prefix: string): void {
  if (!roots.s3) return;
  const inside = roots.s3.some((r) => r.bucket === bucket && (`${prefix}/`.startsWith(r.prefix) || prefix.startsWith(r.prefix)));
  if (!inside) throw outside(`s3://${bucket}/${prefix}`, roots);
}
