// Where source files live and how their bytes are read: a local path (a file, a folder read
// recursively, or a glob) or an S3 prefix (s3://bucket/prefix/ on the configured endpoint). Only
// listing, identity and bytes: formats and records are the file source's (activities/files).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { glob, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { EtlError } from './errors';
import { checkLocalPath, checkS3Location, type FileRoots } from './file-roots';

export type FileLocation = { kind: 'local'; path: string; glob: boolean } | { kind: 's3'; bucket: string; prefix: string };
/** A location checked against FILE_SOURCE_ROOTS, with the roots each file found there is checked against too. */
export type RootedLocation = FileLocation & { roots: FileRoots };

const GLOB_CHARS = /[*?[\]{}]/;

/** A location as given on the command line or in a schedule; a local path must already be absolute. */
export function parseLocation(text: string): FileLocation {
  if (text.startsWith('s3://')) {
    const rest = text.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw new EtlError('USAGE', `"${text}" does not name an S3 bucket: expected s3://bucket/prefix/`);
    return { kind: 's3', bucket, prefix: slash < 0 ? '' : rest.slice(slash + 1) };
  }
  const p = text.startsWith('file://') ? text.slice('file://'.length) : text;
  if (!path.isAbsolute(p)) throw new EtlError('USAGE', `"${text}" is not an absolute path or an s3:// location`);
  return { kind: 'local', path: path.normalize(p), glob: GLOB_CHARS.test(p) };
}

/** The folders of a glob before its first pattern: `/data/in/*.csv` -> `/data/in`. */
function globBase(p: string): string {
  const parts = p.split(path.sep);
  const first = parts.findIndex((part) => GLOB_CHARS.test(part));
  return parts.slice(0, first).join(path.sep) || path.sep;
}

/** Refuses a location outside the roots before anything there is listed or read. */
export async function withinRoots(location: FileLocation, roots: FileRoots): Promise<RootedLocation> {
  if (location.kind === 's3') checkS3Location(roots, location.bucket, location.prefix);
  else await checkLocalPath(roots, location.glob ? globBase(location.path) : location.path);
  return { ...location, roots };
}

/** One file found at a location, with what identifies its content without reading it. */
export interface FoundFile {
  /** s3://bucket/key or file:///absolute/path: the file's name in the manifest. */
  location: string;
  /** Its base name (for the bronze key and the format). */
  name: string;
  size: number;
  modifiedMs: number;
  /** S3 only: the object's ETag (quotes removed). */
  etag?: string;
}

export const localLocation = (p: string) => `file://${p}`;

/** Files under the location, in name order; hidden files (a name starting with '.') are not taken. */
export async function listFiles(location: RootedLocation, s3: S3Client): Promise<FoundFile[]> {
  return location.kind === 's3' ? listS3(location, s3) : listLocal(location);
}

async function listLocal(location: Extract<FileLocation, { kind: 'local' }> & { roots: FileRoots }): Promise<FoundFile[]> {
  const paths: string[] = [];
  if (location.glob) {
    for await (const p of glob(location.path)) paths.push(path.resolve(p));
  } else {
    const s = await stat(location.path).catch(() => undefined);
    if (!s) return [];
    if (s.isDirectory()) {
      const entries = await readdir(location.path, { recursive: true, withFileTypes: true });
      // A link is followed as a glob or a path given would be: to a file it counts (where it points is checked below).
      for (const e of entries) if (e.isFile() || e.isSymbolicLink()) paths.push(path.join(e.parentPath, e.name));
    } else paths.push(location.path);
  }
  const found: FoundFile[] = [];
  for (const p of paths.sort()) {
    if (path.basename(p).startsWith('.')) continue;
    const s = await stat(p).catch(() => undefined);
    if (!s?.isFile()) continue;
    await checkLocalPath(location.roots, p);
    found.push({ location: localLocation(p), name: path.basename(p), size: s.size, modifiedMs: Math.floor(s.mtimeMs) });
  }
  return found;
}

async function listS3(location: Extract<FileLocation, { kind: 's3' }>, s3: S3Client): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const key = o.Key!;
      // s3://b/data means the object data and what is under data/, not data-old.csv.
      if (location.prefix && !location.prefix.endsWith('/') && key !== location.prefix && !key.startsWith(`${location.prefix}/`)) continue;
      const name = key.slice(key.lastIndexOf('/') + 1);
      if (name === '' || name.startsWith('.')) continue;
      found.push({
        location: `s3://${location.bucket}/${key}`,
        name,
        size: o.Size ?? 0,
        modifiedMs: o.LastModified?.getTime() ?? 0,
        etag: (o.ETag ?? '').replaceAll('"', ''),
      });
    }
    token = page.NextContinuationToken;
  } while (token);
  return found.sort((a, b) => a.location.localeCompare(b.location));
}

/** The SHA-256 of a local file's bytes, read as a stream. */
export async function sha256OfFile(p: string, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(p) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    onBytes?.(chunk.length);
  }
  return hash.digest('hex');
}

/** The bytes of a file version; S3 refuses (412, PreconditionFailed) when the object is no longer that ETag. */
export async function openFileBytes(location: string, s3: S3Client, etag: string | null, roots: FileRoots): Promise<Readable> {
  // Checked again here: a file can be swapped for a link between discovery and read; what is opened is where it really is.
  if (location.startsWith('file://')) return createReadStream(await checkLocalPath(roots, location.slice('file://'.length)));
  const loc = parseLocation(location) as Extract<FileLocation, { kind: 's3' }>;
  const got = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.prefix, ...(etag ? { IfMatch: `"${etag}"` } : {}) }));
  return got.Body as Readable;
}

/** The local path of a file:// location. */
export const localPathOf = (location: string) => (location.startsWith('file://') ? location.slice('file://'.length) : undefined);
