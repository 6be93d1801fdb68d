// Loads the stream declarations of a folder: one module per stream (TypeScript or JavaScript),
// each exporting (by default, or as its only export) what `defineStream` returned. The built-in
// streams (./builtin) are loaded the same way, alongside the deployment's ETL_STREAMS_DIR.
//
// TypeScript is compiled on load by tsx (its `require` API, esbuild underneath), so a declaration
// runs the same under the built CLI and worker (plain Node, dist/) as under the test runner, with
// any TypeScript syntax and extensionless relative imports; Node's own type stripping refuses both.
// A module hook (node:module registerHooks, per thread) maps `etl-temporal/define` to ./public and
// refuses any other module of the product a file of the user's folder imports.
//
// All or nothing: a file that does not load, exports no stream, or clashes with another stream
// (name, topic, tables) fails the whole set with one line naming the file and the problem.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { require as tsxRequire } from 'tsx/cjs/api';
import { PROJECT_ROOT } from '../lib/config';
import { EtlError } from '../lib/errors';
import { isStreamSpec } from './define';
import type { StreamSpec } from './types';

/** What a declaration imports the product by. */
export const PUBLIC_MODULE = 'etl-temporal/define';
export const BUILTIN_DIR = path.join(__dirname, 'builtin');
const productRequire = createRequire(__filename);
const PUBLIC_FILE = productRequire.resolve('./public');
const DECLARATION_FILE = /^[^.].*(?<!\.d)\.(ts|mts|cts|js|mjs|cjs)$/;

/** A stream and the file that declared it. */
export interface LoadedStream {
  spec: StreamSpec;
  file: string;
}

/** Folders of the user whose files may import the product only through PUBLIC_MODULE. */
const guarded = new Set<string>();
let hooked = false;

const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + path.sep);

function fileOf(url: string | undefined): string | undefined {
  if (!url?.startsWith('file:')) return undefined;
  return fileURLToPath(url.replace(/\?.*$/, ''));
}

class ForbiddenImport extends Error {}

function hook(): void {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === PUBLIC_MODULE) return { url: pathToFileURL(PUBLIC_FILE).href, shortCircuit: true };
      const resolved = nextResolve(specifier, context);
      const parent = fileOf(context.parentURL);
      const folder = parent && [...guarded].find((dir) => inside(parent, dir));
      const target = fileOf(resolved.url);
      if (
        folder &&
        target &&
        inside(target, PROJECT_ROOT) &&
        !inside(target, folder) &&
        !target.includes(`${path.sep}node_modules${path.sep}`)
      ) {
        throw new ForbiddenImport(
          `imports "${specifier}", a module of the product; a declaration imports the product only as "${PUBLIC_MODULE}"`,
        );
      }
      return resolved;
    },
  });
}

/** The one line a failed load deserves: esbuild's first error with its position, Node's message, or the thrown message. */
function problemOf(err: unknown, file: string): string {
  if (err instanceof ForbiddenImport) return err.message;
  const e = err instanceof Error ? err : new Error(String(err));
  const cause = e.cause instanceof ForbiddenImport ? e.cause : undefined;
  if (cause) return cause.message;
  const lines = e.message.split('\n').filter((l) => l.trim());
  if (e.name === 'TransformError' || /^Transform failed/.test(lines[0] ?? '')) {
    const first = lines.find((l) => l.includes('ERROR:')) ?? lines[1] ?? lines[0] ?? '';
    const m = /:(\d+):(\d+): ERROR: (.*)$/.exec(first);
    return m ? `syntax error at line ${m[1]}, column ${Number(m[2]) + 1}: ${m[3]}` : `syntax error: ${first}`;
  }
  if (e instanceof SyntaxError) {
    const at = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(e.stack ?? '');
    return `syntax error${at ? ` at line ${at[1]}` : ''}: ${lines[0]}`;
  }
  const code = (e as { code?: unknown }).code;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
    return `cannot import: ${lines[0]!.replace(/ imported from .*$/, '')}`;
  return lines.join(' ').replace(/\s+/g, ' ');
}

function declarationError(file: string, problem: string): EtlError {
  return new EtlError('STREAM_DECLARATION', `stream declaration ${file}: ${problem}`);
}

/** The stream a module exports: its default export, or its one export that is a stream. */
function streamOf(mod: unknown): StreamSpec | string {
  if (typeof mod !== 'object' || mod === null) return `exports no stream: export default defineStream({...}) from "${PUBLIC_MODULE}"`;
  const exports = mod as Record<string, unknown>;
  if (isStreamSpec(exports.default)) return exports.default;
  const streams = Object.values(exports).filter(isStreamSpec);
  if (streams.length === 1) return streams[0]!;
  if (streams.length > 1) return 'exports more than one stream; declare one stream per file';
  return `exports no stream: export default defineStream({...}) from "${PUBLIC_MODULE}"`;
}

function declarationFiles(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw declarationError(dir, 'ETL_STREAMS_DIR is not a folder');
    entries = readdirSync(dir);
  } catch (err) {
    if (err instanceof EtlError) throw err;
    throw declarationError(dir, `ETL_STREAMS_DIR cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return entries
    .filter((f) => DECLARATION_FILE.test(f))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Forgets the modules of a folder, so a declaration edited since it was last loaded is read as it is now. */
function forget(dir: string): void {
  for (const id of Object.keys(productRequire.cache)) {
    const file = id.replace(/\?.*$/, '');
    if (inside(file, dir)) delete productRequire.cache[id];
  }
}

function loadFile(file: string, userFolder: boolean): StreamSpec {
  let mod: unknown;
  try {
    // The product's own declarations are product modules (already compiled, or compiled by the
    // process's tsx); a user's are compiled here, each time afresh.
    mod = userFolder ? tsxRequire(file, __filename) : productRequire(file);
  } catch (err) {
    throw declarationError(file, problemOf(err, file));
  }
  const spec = streamOf(mod);
  if (typeof spec === 'string') throw declarationError(file, spec);
  return spec;
}

/**
 * What two streams of one set must not share (a name, a topic, a table), as `declares the … that
 * <file> declares already`; undefined when `spec` clashes with none of `loaded`.
 */
export function clashOf(
  loaded: readonly LoadedStream[],
  spec: Pick<StreamSpec, 'name' | 'topic' | 'rawTable' | 'flatTable'>,
): string | undefined {
  const clash = loaded.find(
    (l) =>
      l.spec.name === spec.name ||
      l.spec.topic === spec.topic ||
      [l.spec.rawTable, l.spec.flatTable].some((t) => t === spec.rawTable || t === spec.flatTable),
  );
  if (!clash) return undefined;
  const what =
    clash.spec.name === spec.name
      ? `stream name "${spec.name}"`
      : clash.spec.topic === spec.topic
        ? `topic "${spec.topic}"`
        : `a table (${spec.rawTable}, ${spec.flatTable})`;
  return `declares the ${what} that ${clash.file} declares already`;
}

/**
 * Every stream of the built-in folder and of `dir`, checked as a set; throws EtlError
 * STREAM_DECLARATION naming the first bad file. A `dir` that does not exist is refused, unless
 * `mayNotExistYet` (`etl stream init`, which makes it): then it holds no stream.
 */
export function loadDeclarations(dir: string | undefined, { mayNotExistYet = false } = {}): LoadedStream[] {
  hook();
  const folders: { dir: string; user: boolean }[] = [{ dir: BUILTIN_DIR, user: false }];
  if (dir) {
    let real: string | undefined;
    try {
      real = realpathSync(dir);
    } catch (err) {
      if (!(mayNotExistYet && (err as NodeJS.ErrnoException).code === 'ENOENT'))
        throw declarationError(dir, 'ETL_STREAMS_DIR does not exist');
    }
    if (real) {
      guarded.add(real);
      forget(real);
      folders.push({ dir: real, user: true });
    }
  }
  const loaded: LoadedStream[] = [];
  for (const folder of folders) {
    for (const file of declarationFiles(folder.dir)) {
      const spec = loadFile(file, folder.user);
      const clash = clashOf(loaded, spec);
      if (clash) throw declarationError(file, clash);
      loaded.push({ spec, file });
    }
  }
  return loaded;
}
