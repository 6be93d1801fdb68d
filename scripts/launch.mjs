// Runs a project command on Node 22 or newer, whatever `node` is on PATH. Every npm script and
// bin/etl start here, so this file must itself run on old Node (20, even 18): plain JavaScript,
// node: built-ins only, nothing from node_modules.
//
//   node scripts/launch.mjs <program> [args…]   run <program> (`node` means the chosen Node)
//   node scripts/launch.mjs --print-node        print the chosen Node's path (for bin/etl's exec)
//
// The chosen Node is the one running this file when it is 22 or newer; otherwise Node 24 from the
// npm registry (the official binaries, as the per-platform package `node-<os>-<cpu>` of the `node`
// package), installed once into <state folder>/node. Its folder goes first on PATH for the program,
// so every child process (`etl worker` started by tests, chaos and bench; npm; tsx) uses it too.
// Before the program runs, npm dependencies are installed with `npm ci` when node_modules is missing
// or older than package-lock.json.
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIN_NODE_MAJOR = 22;
/** The release line installed when PATH's node is too old: the current LTS. */
export const NODE_LINE = 24;

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`${line}\n`);

/**
 * ETL_STATE_DIR as lib/config.ts resolves it (environment, then .env, then ".stack", relative to the
 * checkout). Read here by hand because lib/config.ts needs node_modules, which may not exist yet.
 */
export function stateDir() {
  let value = process.env.ETL_STATE_DIR || undefined;
  const dotenv = path.join(root, '.env');
  if (value === undefined && existsSync(dotenv)) {
    for (const line of readFileSync(dotenv, 'utf8').split(/\r?\n/)) {
      const m = /^\s*(?:export\s+)?ETL_STATE_DIR\s*=\s*(.*?)\s*$/.exec(line);
      if (!m) continue;
      const raw = m[1];
      const quoted = /^(['"])(.*)\1$/.exec(raw);
      value = (quoted ? quoted[2] : raw.replace(/\s+#.*$/, '')) || undefined;
    }
  }
  return path.resolve(root, value ?? '.stack');
}

const major = (version) => Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
const projectNodeDir = () => path.join(stateDir(), 'node');
const projectNodeBin = () => path.join(projectNodeDir(), 'bin', 'node');

function versionOf(nodeBin) {
  const r = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function run(command, args, opts = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`could not run ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
}

/** Node 24 from the npm registry into <state>/node: `npm pack` fetches the tarball, tar unpacks it. */
function installProjectNode() {
  const pkg = `node-${process.platform}-${process.arch}`;
  const dest = projectNodeDir();
  say(
    `node: ${process.version} on PATH is older than ${MIN_NODE_MAJOR}; installing Node ${NODE_LINE} from the npm registry (${pkg}) into ${dest}, once, and running on it`,
  );
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(path.join(tmp, 'unpacked'), { recursive: true });
  try {
    // cwd outside the project: npm must not read this project's package.json for a pack.
    run('npm', ['pack', `${pkg}@${NODE_LINE}`, '--silent', '--pack-destination', tmp], {
      cwd: tmp,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${pkg}@${NODE_LINE} produced no tarball`);
    run('tar', ['xzf', path.join(tmp, tarball), '-C', path.join(tmp, 'unpacked'), '--strip-components=1'], { stdio: ['ignore', 2, 2] });
    const version = versionOf(path.join(tmp, 'unpacked', 'bin', 'node'));
    if (major(version ?? '') !== NODE_LINE)
      throw new Error(`the node binary from ${tarball} does not run here (got ${version ?? 'nothing'})`);
    writeFileSync(path.join(tmp, 'unpacked', 'etl-node-version'), `${version}\n`);
    rmSync(dest, { recursive: true, force: true });
    renameSync(path.join(tmp, 'unpacked'), dest);
    say(`node: Node ${version} installed in ${dest}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The Node to run on: this one when recent enough, else the project's Node 24 (installed if needed). */
export function chooseNode() {
  if (major(process.version) >= MIN_NODE_MAJOR) return process.execPath;
  const bin = projectNodeBin();
  // The stamp is written only after a complete install; a binary that no longer runs is reinstalled.
  if (!existsSync(path.join(projectNodeDir(), 'etl-node-version')) || major(versionOf(bin) ?? '') < MIN_NODE_MAJOR) installProjectNode();
  return bin;
}

// kafkajs 2.2.4 hands setTimeout a negative delay (tulios/kafkajs#1751): Node 24 warns about it on
// every connection, while the timer behaves as it always did (1 ms). Every process started from here
// inherits the switch; bin/etl passes it too.
const QUIET_NODE = '--disable-warning=TimeoutNegativeWarning';

/**
 * PATH with `nodeBin`'s folder first, so `node`, npm and every `#!/usr/bin/env node` use it, and
 * NODE_OPTIONS with the warning switch above.
 */
export function envFor(nodeBin) {
  const dir = path.dirname(nodeBin);
  const PATH = [dir, ...(process.env.PATH ?? '').split(path.delimiter).filter((p) => p && p !== dir)].join(path.delimiter);
  const options = process.env.NODE_OPTIONS ?? '';
  const NODE_OPTIONS = options.includes(QUIET_NODE) ? options : `${QUIET_NODE}${options ? ` ${options}` : ''}`;
  return { ...process.env, PATH, NODE_OPTIONS };
}

/**
 * `npm ci` when node_modules was not installed from this very lock. The lock's digest is stamped in
 * node_modules once installed: a checkout's mtime says nothing (a git worktree or a fresh clone has
 * a new lock file with the same content, and a symlinked node_modules shared by worktrees would
 * otherwise be reinstalled under the others' feet). `npm ci` never rewrites tracked files.
 */
export function ensureDeps(nodeBin) {
  const modules = path.join(root, 'node_modules');
  const stamp = path.join(modules, '.etl-lock-sha256');
  const digest = createHash('sha256')
    .update(readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return;
  // Installed before the stamp existed: npm's own record of that install, newer than the lock.
  const marker = path.join(modules, '.package-lock.json');
  if (!existsSync(stamp) && existsSync(marker) && statSync(marker).mtimeMs >= statSync(path.join(root, 'package-lock.json')).mtimeMs) {
    writeFileSync(stamp, `${digest}\n`);
    return;
  }
  say('installing npm dependencies (npm ci)…');
  // Its output goes to stderr: stdout may be what a caller reads (`--print-node`, `$(… node --version)`).
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, env: envFor(nodeBin), stdio: ['ignore', 2, 2] });
  writeFileSync(stamp, `${digest}\n`);
}

/** Runs the program with inherited stdio, passes on SIGTERM/SIGHUP, and exits as the program did. */
function runProgram(nodeBin, [program, ...args]) {
  const child = spawn(program === 'node' ? nodeBin : program, args, { stdio: 'inherit', env: envFor(nodeBin) });
  // Ctrl-C reaches the program from the terminal directly (same process group): waiting for it is
  // enough. A signal sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.once('error', (err) => {
    say(`could not run ${program}: ${err.message}`);
    process.exit(127);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

function main(argv) {
  if (argv.length === 0) {
    say('usage: node scripts/launch.mjs <program> [args…] | --print-node');
    process.exit(2);
  }
  let nodeBin;
  try {
    nodeBin = chooseNode();
    ensureDeps(nodeBin);
  } catch (err) {
    say(`error: ${err.message}`);
    process.exit(1);
  }
  if (argv[0] === '--print-node') {
    process.stdout.write(`${nodeBin}\n`);
    return;
  }
  runProgram(nodeBin, argv);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
