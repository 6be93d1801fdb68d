// Where source files live and how their bytes are read: a local path (a file, a folder read
// recursively, or a glob) or an S3 prefix (s3://bucket/prefix/ on the configured endpoint). Only
// listing, identity and bytes: formats and records are the file source's (activities/files).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Dirent } from 'node:fs';
import { glob, lstat, readdir, stat } from 'node:fs/promises';
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

/** Something at a location that is there but cannot be read as a file: reported, never dropped. */
export interface UnreadableEntry {
  location: string;
  reason: string;
}

/** One page of a listing; `cursor` resumes the listing after it. */
export interface ListingPage {
  files: FoundFile[];
  unreadable: UnreadableEntry[];
  cursor: string;
}

export const localLocation = (p: string) => `file://${p}`;

/** Entries per page of a listing (S3's own page size): a page is registered in one transaction. */
export const LISTING_PAGE = 1000;

const missing = (what: string) =>
  new EtlError('FILE_LOCATION_MISSING', `${what}; check the path (or bucket and prefix) the run or schedule names`);

/**
 * The files under a location, a page at a time, in a stable order that `after` (a page's cursor)
 * resumes from. Hidden files (a name starting with '.') are not taken. What is there but cannot be
 * read (permission denied, a vanished mount, a dangling link, a FIFO) is listed as unreadable. A
 * location that does not exist fails with FILE_LOCATION_MISSING: a local path or a glob's folder
 * that is not there, a bucket that does not exist, a prefix under which there is no object.
 */
export function listFilePages(location: RootedLocation, s3: S3Client, after?: string): AsyncGenerator<ListingPage> {
  const from = after || undefined;
  return location.kind === 's3' ? listS3(location, s3, from) : listLocal(location, from);
}

/** Errors of the file system that say what is wrong with one entry, not with the worker. */
const reasonOf = (err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String(err);
};

/**
 * A walk's order: by path segments, so a folder's entries come right after it (depth first, each
 * folder's entries sorted by name) and a cursor can be compared with any path.
 */
export function walkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

/** Paths in walk order after `after`: a folder's entries are read one folder at a time, folders before `after` are not entered. */
async function* walk(
  root: string,
  after: string | undefined,
  unreadable: UnreadableEntry[],
): AsyncGenerator<{ path: string; dirent?: Dirent }> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    unreadable.push({ location: localLocation(root), reason: `folder cannot be read (${reasonOf(err)})` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(root, e.name);
    if (after !== undefined && walkOrder(p, after) <= 0 && !`${after}/`.startsWith(`${p}/`)) continue;
    if (e.isDirectory()) yield* walk(p, after, unreadable);
    else if (after === undefined || walkOrder(p, after) > 0) yield { path: p, dirent: e };
  }
}

async function* listLocal(location: Extract<RootedLocation, { kind: 'local' }>, after?: string): AsyncGenerator<ListingPage> {
  const unreadable: UnreadableEntry[] = [];
  let paths: AsyncIterable<{ path: string; dirent?: Dirent }>;
  if (location.glob) {
    const base = globBase(location.path);
    if (!(await stat(base).catch(() => undefined))?.isDirectory()) throw missing(`no folder ${base} for the glob ${location.path}`);
    const matched: string[] = [];
    for await (const p of glob(location.path)) {
      const full = path.resolve(p);
      if (after === undefined || walkOrder(full, after) > 0) matched.push(full);
    }
    paths = (async function* () {
      for (const p of matched.sort(walkOrder)) yield { path: p };
    })();
  } else {
    const s = await lstat(location.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw new EtlError('FILE_LOCATION_MISSING', `${location.path} cannot be read (${reasonOf(err)})`);
    });
    if (!s) throw missing(`no file or folder at ${location.path}`);
    const followed = s.isSymbolicLink() ? await stat(location.path).catch(() => undefined) : s;
    if (followed?.isDirectory()) paths = walk(location.path, after, unreadable);
    else
      paths = (async function* () {
        if (after === undefined) yield { path: location.path };
      })();
  }
  let files: FoundFile[] = [];
  let cursor = after ?? '';
  for await (const { path: p, dirent } of paths) {
    cursor = p;
    if (path.basename(p).startsWith('.')) continue;
    const entry = await localEntry(p, dirent);
    if ('reason' in entry) unreadable.push(entry);
    else if (entry.file) {
      await checkLocalPath(location.roots, p);
      files.push(entry.file);
    }
    if (files.length + unreadable.length >= LISTING_PAGE) {
      yield { files, unreadable: unreadable.splice(0), cursor };
      files = [];
    }
  }
  yield { files, unreadable: unreadable.splice(0), cursor };
}

/** One path of a listing: a regular file (a symbolic link is followed), nothing (a folder a glob matched), or why it cannot be read. */
async function localEntry(p: string, dirent?: Dirent): Promise<{ file?: FoundFile } | UnreadableEntry> {
  const s = await stat(p).catch((err: unknown) => err as NodeJS.ErrnoException);
  if (s instanceof Error) {
    const dangling =
      s.code === 'ENOENT' &&
      (dirent?.isSymbolicLink() ??
        (await lstat(p).then(
          (l) => l.isSymbolicLink(),
          () => false,
        )));
    return { location: localLocation(p), reason: dangling ? 'a symbolic link to nothing (dangling)' : `cannot be read (${reasonOf(s)})` };
  }
  if (s.isFile()) return { file: { location: localLocation(p), name: path.basename(p), size: s.size, modifiedMs: Math.floor(s.mtimeMs) } };
  if (s.isDirectory()) {
    // A glob matching a folder takes nothing of it (the glob says which files); a linked folder is not followed.
    return dirent ? { location: localLocation(p), reason: 'a symbolic link to a folder (not followed; name the folder itself)' } : {};
  }
  const kind = s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : 'a device';
  return { location: localLocation(p), reason: `not a regular file (${kind})` };
}

async function* listS3(location: Extract<FileLocation, { kind: 's3' }>, s3: S3Client, after?: string): AsyncGenerator<ListingPage> {
  let token: string | undefined;
  let any = after !== undefined;
  do {
    const page = await s3
      .send(
        new ListObjectsV2Command({
          Bucket: location.bucket,
          Prefix: location.prefix,
          MaxKeys: LISTING_PAGE,
          ...(token ? { ContinuationToken: token } : after ? { StartAfter: after } : {}),
        }),
      )
      .catch((err: unknown) => {
        if ((err as { name?: string }).name === 'NoSuchBucket') throw missing(`no bucket ${location.bucket}`);
        throw err;
      });
    const out: ListingPage = { files: [], unreadable: [], cursor: after ?? '' };
    // S3 lists keys in UTF-8 binary order: the last key of a page is where the next one starts.
    for (const o of page.Contents ?? []) {
      const key = o.Key!;
      out.cursor = key;
      // s3://b/data means the object data and what is under data/, not data-old.csv.
      if (location.prefix && !location.prefix.endsWith('/') && key !== location.prefix && !key.startsWith(`${location.prefix}/`)) continue;
      any = true;
      const name = key.slice(key.lastIndexOf('/') + 1);
      if (name === '' || name.startsWith('.')) continue;
      out.files.push({
        location: `s3://${location.bucket}/${key}`,
        name,
        size: o.Size ?? 0,
        modifiedMs: o.LastModified?.getTime() ?? 0,
        etag: (o.ETag ?? '').replaceAll('"', ''),
      });
    }
    token = page.NextContinuationToken;
    if (!token && !any) throw missing(`no object under s3://${location.bucket}/${location.prefix}`);
    yield out;
  } while (token);
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
