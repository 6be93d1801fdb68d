// Where the local stack keeps its files, and how configured addresses map onto what we manage.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { isLoopbackHost, type Config } from '../../lib/config';

export type ServiceName = 'temporal' | 'temporal-tls' | 'kafka' | 's3' | 'postgres' | 'opensearch';

export interface StackPaths {
  root: string;
  bin: string;
  cache: string;
  run: string;
  logs: string;
  data(service: ServiceName): string;
  log(service: ServiceName): string;
  installLog(service: ServiceName): string;
  pidFile(service: ServiceName): string;
}

export function stackPaths(cfg: Config): StackPaths {
  const root = cfg.ETL_STATE_DIR;
  const logs = path.join(root, 'logs');
  const run = path.join(root, 'run');
  return {
    root,
    bin: path.join(root, 'bin'),
    cache: path.join(root, 'cache'),
    run,
    logs,
    data: (s) => path.join(root, 'data', s),
    log: (s) => path.join(logs, `${s}.log`),
    installLog: (s) => path.join(logs, `install-${s}.log`),
    pidFile: (s) => path.join(run, `${s}.pid`),
  };
}

export function ensureStackDirs(p: StackPaths): void {
  for (const dir of [p.bin, p.cache, p.run, p.logs]) mkdirSync(dir, { recursive: true });
}

export interface HostPort {
  host: string;
  port: number;
}

/** Splits "host:port" (also "[::1]:port"). */
export function parseHostPort(address: string): HostPort {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`expected host:port, got ${JSON.stringify(address)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export function urlHostPort(url: string, defaultPort: number): HostPort {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : defaultPort };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** We only start servers on this machine's loopback; any other address belongs to someone else. */
export const isLoopback = isLoopbackHost;
