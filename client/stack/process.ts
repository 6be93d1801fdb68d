// Child processes of the local stack: detached servers tracked by pid files, and install commands.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EtlError } from '../../lib/errors';
import { sleep } from './health';

export const isRoot = (): boolean => process.getuid?.() === 0;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid from a pid file if that process still runs and is still the program we started:
 * pids get reused after a reboot, so on Linux the command line must contain `marker`.
 */
export function readLivePid(pidFile: string, marker: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const cmdline = processCommandLine(pid);
  if (cmdline === undefined) return pid; // no /proc (macOS): trust the live pid
  return cmdline.includes(marker) ? pid : undefined;
}

/** The command line of a live process, arguments joined by spaces; undefined without /proc. */
export function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

const MAX_LOG_BYTES = 50 * 1024 * 1024;

export interface DetachedSpec {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/**
 * Starts a server in its own process group with stdout/stderr appended to `logFile`, and lets it
 * outlive us: the CLI that ran `stack up` exits while the servers keep running.
 */
export async function spawnDetached(spec: DetachedSpec, logFile: string, pidFile: string): Promise<number> {
  if (existsSync(logFile) && statSync(logFile).size > MAX_LOG_BYTES) renameSync(logFile, `${logFile}.1`);
  const fd = openSync(logFile, 'a');
  try {
    writeSync(fd, `\n=== ${new Date().toISOString()} starting: ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      uid: spec.uid,
      gid: spec.gid,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    writeFileSync(pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** Polite signal, then SIGKILL to the whole process group if it has not exited by `timeoutMs`. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, signal);
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(200);
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  while (isAlive(pid)) await sleep(100);
  return 'killed';
}

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
}

export interface InstallCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Values (generated passwords) the log and error messages show as *** instead. */
  secrets?: string[];
}

/** Runs one install step with its output appended to `logFile`; a failure names the command and the log. */
export async function runInstallStep(step: InstallCommand, logFile: string): Promise<void> {
  let printable = `${step.command} ${step.args.join(' ')}`;
  for (const secret of step.secrets ?? []) if (secret) printable = printable.split(secret).join('***');
  const fd = openSync(logFile, 'a');
  try {
    writeSync(fd, `\n=== ${new Date().toISOString()} ${printable}\n`);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(step.command, step.args, {
        cwd: step.cwd,
        env: step.env,
        uid: step.uid,
        gid: step.gid,
        stdio: ['ignore', fd, fd],
      });
      child.once('error', reject);
      child.once('close', resolve);
    }).catch((err: Error) => {
      throw new EtlError('STACK_INSTALL_FAILED', `could not run \`${printable}\`: ${err.message} (log: ${logFile})`, { cause: err });
    });
    if (code !== 0) {
      throw new EtlError('STACK_INSTALL_FAILED', `\`${printable}\` failed with exit code ${code}; see ${logFile}`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The jars a POM names, with their runtime dependencies, from Maven Central into `libsDir` (emptied
 * first), with a repository of their own under `cacheDir`: how Kafka and OpenSearch are installed.
 */
export async function copyMavenDependencies(
  m: { cacheDir: string; libsDir: string; pom: string; env?: NodeJS.ProcessEnv },
  logFile: string,
  log: (l: string) => void,
): Promise<void> {
  await ensureCommand('mvn', 'maven', logFile, log);
  mkdirSync(m.cacheDir, { recursive: true });
  writeFileSync(path.join(m.cacheDir, 'pom.xml'), m.pom);
  rmSync(m.libsDir, { recursive: true, force: true });
  const args = ['-q', '-B', '-f', path.join(m.cacheDir, 'pom.xml'), `-Dmaven.repo.local=${path.join(m.cacheDir, 'm2')}`];
  await runInstallStep(
    {
      command: 'mvn',
      args: [...args, 'dependency:copy-dependencies', `-DoutputDirectory=${m.libsDir}`, '-DincludeScope=runtime'],
      ...(m.env ? { env: m.env } : {}),
    },
    logFile,
  );
}

/**
 * Makes sure `cmd` is on PATH. As root on Debian/Ubuntu it installs `aptPackage`; otherwise the
 * error says what to install, since we will not escalate privileges ourselves.
 */
export async function ensureCommand(cmd: string, aptPackage: string, logFile: string, log: (l: string) => void): Promise<void> {
  if (commandExists(cmd)) return;
  if (!canAptInstall()) {
    throw new EtlError(
      'STACK_INSTALL_FAILED',
      `\`${cmd}\` is not installed: install it (on Debian/Ubuntu: \`sudo apt-get install -y ${aptPackage}\`) and run again`,
    );
  }
  log(`installing ${aptPackage} with apt-get (\`${cmd}\` is missing)…`);
  await aptInstall([aptPackage], logFile);
}

export const canAptInstall = (): boolean => isRoot() && commandExists('apt-get');

let aptUpdated: Promise<void> | undefined;

export async function aptInstall(packages: string[], logFile: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  aptUpdated ??= runInstallStep({ command: 'apt-get', args: ['update'], env }, logFile);
  await aptUpdated;
  await runInstallStep({ command: 'apt-get', args: ['install', '-y', '--no-install-recommends', ...packages], env }, logFile);
}

/**
 * Serialises `stack up`/`stack down` across processes (tests and the CLI may overlap): a lock file
 * holding the owner's pid, taken over when that owner is gone.
 */
export async function withLock<T>(lockFile: string, onWait: (owner: number) => void, fn: () => Promise<T>): Promise<T> {
  // Callers in this same process queue here first, since the file lock cannot tell them apart.
  const previous = inProcessQueue;
  let release!: () => void;
  inProcessQueue = new Promise<void>((resolve) => (release = resolve));
  await previous;
  try {
    return await withFileLock(lockFile, onWait, fn);
  } finally {
    release();
  }
}

let inProcessQueue: Promise<void> = Promise.resolve();
const LOCK_MAX_AGE_MS = 60 * 60_000;

async function withFileLock<T>(lockFile: string, onWait: (owner: number) => void, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let text: string;
      let age: number;
      try {
        text = readFileSync(lockFile, 'utf8').trim();
        age = Date.now() - statSync(lockFile).mtimeMs;
      } catch {
        continue; // released between our attempt and the read
      }
      const owner = Number(text);
      if (text === '' && age < 5000) {
        await sleep(50); // the owner created the file and is about to write its pid
        continue;
      }
      // A cold install takes minutes, not hours: an older lock outlived its owner (whose pid may be reused).
      if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !isAlive(owner) || age > LOCK_MAX_AGE_MS) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (!announced) onWait(owner);
      announced = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
