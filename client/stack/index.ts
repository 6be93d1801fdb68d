// The local stack: Temporal, Kafka, S3 and PostgreSQL as plain processes under ETL_STATE_DIR, for
// machines without Docker. Servers are detached, so they keep running after `etl stack up` exits.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { EtlError, isEtlError } from '../../lib/errors';
import { describe, tailFile, tcpOpen, waitUntil, withTimeout } from './health';
import { kafkaService } from './kafka';
import { opensearchService } from './opensearch';
import { ensureStackDirs, formatHostPort, isLoopback, stackPaths, type ServiceName, type StackPaths } from './paths';
import { postgresService } from './postgres';
import { isAlive, readLivePid, spawnDetached, stopProcess, withLock } from './process';
import { s3Service } from './s3';
import { secureClientEnv, secureServerConfig, secureStack, type SecureStack } from './secure';
import type { StackContext, StackService } from './service';
import { temporalService } from './temporal';
import { temporalBackendService, temporalProxyService } from './temporal-tls';

export { temporalBinary } from './temporal';
export type { ServiceName } from './paths';
export { secureClientConfig, secureStack } from './secure';

const SERVICES: readonly StackService[] = [temporalService, kafkaService, s3Service, postgresService];
const SECURE_SERVICES: readonly StackService[] = [temporalBackendService, temporalProxyService, kafkaService, s3Service, postgresService];
/** Heavy and needed only by the search sink: started with `--with opensearch` or SEARCH_SINK=true. */
const OPTIONAL_SERVICES: readonly StackService[] = [opensearchService];
export const OPTIONAL_SERVICE_NAMES: readonly ServiceName[] = OPTIONAL_SERVICES.map((s) => s.name);
export const SERVICE_NAMES: readonly ServiceName[] = [...SERVICES, ...OPTIONAL_SERVICES].map((s) => s.name);
const PROBE_MS = 3000;

export interface ServiceStatus {
  name: string;
  address: string;
  pid?: number;
  state: 'running' | 'stopped' | 'external' | 'unhealthy';
  log: string;
  /** Why a health check failed, when it did. */
  detail?: string;
}

export interface StackOptions {
  log?: (line: string) => void;
  /** The secured stack (TLS and authentication everywhere, own ports, state in <ETL_STATE_DIR>/secure) instead of the plain one. */
  secure?: boolean;
  /** Optional services to include (`--with opensearch`); SEARCH_SINK=true includes OpenSearch too. */
  with?: readonly string[];
  /** Only these of the stack's services (a broker of a state folder of its own beside the shared servers). */
  only?: readonly ServiceName[];
}

/** Which servers, and the configuration they are run from: the plain stack's, or the secured one's. */
interface Mode {
  cfg: Config;
  services: readonly StackService[];
  secure?: SecureStack;
}

async function modeOf(base: Config, opts: StackOptions, create: boolean): Promise<Mode> {
  const chosen = (services: readonly StackService[]) => (opts.only ? services.filter((s) => opts.only!.includes(s.name)) : services);
  if (!opts.secure) return { cfg: base, services: chosen([...SERVICES, ...optionalServices(base, opts)]) };
  const secure = await secureStack(base, create);
  return { cfg: secureServerConfig(base, secure), services: chosen(SECURE_SERVICES), secure };
}

/**
 * The optional services asked for (by --with or the config), plus, so that `status` and `down` see
 * it, one this stack already runs.
 */
function optionalServices(cfg: Config, opts: StackOptions): StackService[] {
  const paths = stackPaths(cfg);
  return OPTIONAL_SERVICES.filter(
    (svc) =>
      opts.with?.includes(svc.name) ||
      (svc.name === 'opensearch' && cfg.SEARCH_SINK) ||
      readLivePid(paths.pidFile(svc.name), svc.processMarker) !== undefined,
  );
}

const addressOf = (svc: StackService, cfg: Config) => formatHostPort(svc.address(cfg));
const managed = (svc: StackService, cfg: Config) => isLoopback(svc.address(cfg).host);

/** Undefined when healthy, else the reason. A closed port fails fast instead of waiting out a client timeout. */
async function probe(svc: StackService, cfg: Config, ms = PROBE_MS): Promise<string | undefined> {
  if (!(await tcpOpen(svc.address(cfg), Math.min(ms, 1000)))) return `nothing listens on ${addressOf(svc, cfg)}`;
  try {
    await withTimeout(svc.health(cfg, ms), ms + 1000, `${svc.name} health check`);
    return undefined;
  } catch (err) {
    return describe(err);
  }
}

function startFailed(svc: StackService, ctx: StackContext, reason: string, withLog = true): EtlError {
  const logFile = ctx.paths.log(svc.name);
  const logPart = withLog ? `\nlog: ${logFile}\n--- last 20 lines ---\n${tailFile(logFile, 20)}` : '';
  return new EtlError('STACK_START_FAILED', `${svc.name} at ${addressOf(svc, ctx.cfg)} is not healthy: ${reason}${logPart}`);
}

/** Waits for a started server, runs its post-start setup, and confirms it serves the app. */
async function finishStart(svc: StackService, ctx: StackContext, pid: number): Promise<void> {
  const ready = svc.ready ?? ((c: StackContext) => svc.health(c.cfg, PROBE_MS));
  try {
    await waitUntil(
      async () => {
        if (!(await tcpOpen(svc.address(ctx.cfg)))) throw new Error(`nothing listens on ${addressOf(svc, ctx.cfg)} yet`);
        await withTimeout(ready(ctx), PROBE_MS + 1000, `${svc.name} readiness check`);
      },
      svc.startTimeoutMs,
      () => isAlive(pid),
    );
    await svc.afterStart?.(ctx);
    await waitUntil(
      () => withTimeout(svc.health(ctx.cfg, PROBE_MS), PROBE_MS + 1000, `${svc.name} health check`),
      15_000,
      () => isAlive(pid),
    );
  } catch (err) {
    throw isEtlError(err) ? err : startFailed(svc, ctx, describe(err));
  }
}

async function upOne(svc: StackService, ctx: StackContext): Promise<void> {
  const { cfg, paths, log } = ctx;
  const where = addressOf(svc, cfg);
  if (!managed(svc, cfg)) {
    const reason = await probe(svc, cfg);
    if (reason)
      throw startFailed(
        svc,
        ctx,
        `${where} is not a loopback address, so it is not started here, and its health check failed: ${reason}`,
        false,
      );
    log(`${svc.name}: external at ${where} (healthy; not managed by the local stack)`);
    return;
  }
  const pidFile = paths.pidFile(svc.name);
  let running = readLivePid(pidFile, svc.processMarker);
  const replace = running === undefined ? undefined : svc.outdated?.(running);
  if (running !== undefined && replace) {
    log(
      `${svc.name}: pid ${running} runs ${replace}, started by an earlier version of this project; stopping it to start the current one on the same data`,
    );
    await stopProcess(running, svc.stopSignal, svc.stopTimeoutMs);
    rmSync(pidFile, { force: true });
    running = undefined;
  }
  if (running !== undefined) {
    // Ours but not (yet) healthy: still starting, or its setup (e.g. the app role) needs redoing.
    if (await probe(svc, cfg)) await finishStart(svc, ctx, running);
    log(`${svc.name}: running (pid ${running}) at ${where}`);
    return;
  }
  if (!(await probe(svc, cfg))) {
    log(`${svc.name}: external at ${where} (already answering; not started by the local stack)`);
    return;
  }
  for (const port of svc.ports(cfg)) {
    if (await tcpOpen(port)) {
      throw startFailed(
        svc,
        ctx,
        `port ${formatHostPort(port)} is taken by another program that is not a working ${svc.name} server; stop it or change the port in .env`,
        false,
      );
    }
  }
  await svc.install(ctx);
  const spec = await svc.prepare(ctx);
  const started = Date.now();
  const pid = await spawnDetached(spec, paths.log(svc.name), pidFile);
  try {
    await finishStart(svc, ctx, pid);
  } catch (err) {
    // Do not leave a half-started server behind to confuse the next `stack up`.
    if (isAlive(pid)) await stopProcess(pid, svc.stopSignal, 5000);
    rmSync(pidFile, { force: true });
    throw err;
  }
  log(`${svc.name}: started (pid ${pid}) at ${where} in ${((Date.now() - started) / 1000).toFixed(1)} s — log ${paths.log(svc.name)}`);
}

function lockFor(cfg: Config, log: (line: string) => void) {
  const paths = stackPaths(cfg);
  ensureStackDirs(paths);
  return <T>(fn: () => Promise<T>) =>
    withLock(path.join(paths.run, 'stack.lock'), (owner) => log(`waiting for another stack command (pid ${owner}) to finish…`), fn);
}

/**
 * Installs what is missing and starts every service that is not already healthy, in parallel.
 * Throws STACK_INSTALL_FAILED or STACK_START_FAILED naming the service, its address and its log.
 */
export async function stackUp(base: Config, opts: StackOptions = {}): Promise<void> {
  const log = opts.log ?? (() => {});
  const { cfg, services, secure } = await modeOf(base, opts, true);
  const ctx: StackContext = { cfg, paths: stackPaths(cfg), log, secure };
  const started = Date.now();
  await lockFor(
    cfg,
    log,
  )(async () => {
    const results = await Promise.allSettled(services.map((svc) => upOne(svc, ctx)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const first = failures.find(isEtlError);
      throw new EtlError(first?.code ?? 'STACK_START_FAILED', failures.map(describe).join('\n\n'), { cause: failures[0] });
    }
  });
  log(`stack up: all services healthy in ${((Date.now() - started) / 1000).toFixed(1)} s (state in ${ctx.paths.root})`);
  if (secure) log(`stack up --secure: client settings in ${secureClientEnv(secure)} (\`set -a; . <that file>; set +a\`)`);
}

async function downOne(svc: StackService, cfg: Config, paths: StackPaths, log: (line: string) => void): Promise<void> {
  if (!managed(svc, cfg)) return log(`${svc.name}: external at ${addressOf(svc, cfg)}, left alone`);
  const pidFile = paths.pidFile(svc.name);
  const pid = readLivePid(pidFile, svc.processMarker);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    return log(`${svc.name}: not running`);
  }
  const how = await stopProcess(pid, svc.stopSignal, svc.stopTimeoutMs);
  rmSync(pidFile, { force: true });
  log(
    how === 'stopped'
      ? `${svc.name}: stopped (pid ${pid})`
      : `${svc.name}: killed (pid ${pid}) after ${svc.stopTimeoutMs / 1000} s without exiting`,
  );
}

/** Stops the servers this stack started; their data stays for the next `stack up`. */
export async function stackDown(base: Config, opts: StackOptions = {}): Promise<void> {
  const log = opts.log ?? (() => {});
  const { cfg, services } = await modeOf(base, opts, false);
  const paths = stackPaths(cfg);
  await lockFor(cfg, log)(() => Promise.all(services.map((svc) => downOne(svc, cfg, paths, log))));
}

/**
 * Stops one running service as `stack down` does and starts it again as `stack up` does, resolving
 * once it is healthy (the chaos harness's server restarts). Only a server this stack started is
 * restarted: anything else belongs to someone who did not ask for it. Returns how long each half took.
 */
export async function restartService(
  base: Config,
  name: ServiceName,
  opts: StackOptions = {},
): Promise<{ stopMs: number; startMs: number }> {
  const log = opts.log ?? (() => {});
  const { cfg, services, secure } = await modeOf(base, { ...opts, with: [name] }, false);
  const svc = serviceNamed(name, services);
  const ctx: StackContext = { cfg, paths: stackPaths(cfg), log, secure };
  return lockFor(
    cfg,
    log,
  )(async () => {
    if (!managed(svc, cfg) || readLivePid(ctx.paths.pidFile(svc.name), svc.processMarker) === undefined) {
      throw new EtlError('USAGE', `${svc.name} at ${addressOf(svc, cfg)} is not a server this stack started, so it is not restarted here`);
    }
    const stopping = Date.now();
    await downOne(svc, cfg, ctx.paths, log);
    const starting = Date.now();
    await upOne(svc, ctx);
    return { stopMs: starting - stopping, startMs: Date.now() - starting };
  });
}

/**
 * Stops one service this stack runs and deletes its data folder, so the next `stack up` starts it
 * empty (e.g. Kafka data that this Kafka cannot open). Installed servers and download caches stay.
 */
export async function stackReset(base: Config, name: ServiceName, opts: StackOptions = {}): Promise<void> {
  const log = opts.log ?? (() => {});
  const { cfg, services } = await modeOf(base, { ...opts, with: [name] }, false);
  const svc = serviceNamed(name, services);
  if (!managed(svc, cfg))
    throw new EtlError('USAGE', `${svc.name} at ${addressOf(svc, cfg)} is not on this machine's loopback, so its data is not managed here`);
  const paths = stackPaths(cfg);
  await lockFor(
    cfg,
    log,
  )(async () => {
    await downOne(svc, cfg, paths, log);
    const dir = paths.data(svc.name);
    rmSync(dir, { recursive: true, force: true });
    log(`${svc.name}: deleted its data folder ${dir}; \`etl stack up\` starts it empty`);
  });
}

function serviceNamed(name: string, services: readonly StackService[]): StackService {
  const svc = services.find((s) => s.name === name);
  if (!svc) throw new EtlError('USAGE', `unknown service "${name}"; the stack has ${services.map((s) => s.name).join(', ')}`);
  return svc;
}

export async function stackStatus(base: Config, opts: Pick<StackOptions, 'secure'> = {}): Promise<ServiceStatus[]> {
  const { cfg, services } = await modeOf(base, opts, false);
  const paths = stackPaths(cfg);
  return Promise.all(
    services.map(async (svc): Promise<ServiceStatus> => {
      const pid = managed(svc, cfg) ? readLivePid(paths.pidFile(svc.name), svc.processMarker) : undefined;
      const problem = await probe(svc, cfg, 2000);
      const base = { name: svc.name, address: addressOf(svc, cfg), log: paths.log(svc.name), ...(problem ? { detail: problem } : {}) };
      if (pid !== undefined) return { ...base, pid, state: problem ? 'unhealthy' : 'running' };
      if (!managed(svc, cfg)) return { ...base, state: problem ? 'unhealthy' : 'external' };
      return { ...base, state: problem ? 'stopped' : 'external' };
    }),
  );
}

/** A plain, aligned text table of `stackStatus` rows. */
export function formatStatusTable(rows: readonly ServiceStatus[]): string {
  const header = ['SERVICE', 'STATE', 'ADDRESS', 'PID', 'LOG'];
  const cells = rows.map((r) => [r.name, r.state, r.address, r.pid === undefined ? '-' : String(r.pid), r.log]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
