// What index.ts needs to know about each local service; one implementation per file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config } from '../../lib/config';
import type { DetachedSpec } from './process';
import type { HostPort, ServiceName, StackPaths } from './paths';
import type { SecureStack } from './secure';

export interface StackContext {
  cfg: Config;
  paths: StackPaths;
  log: (line: string) => void;
  /** Set in the secured stack (`etl stack up --secure`): its certificates and passwords. */
  secure?: SecureStack;
}

export interface StackService {
  name: ServiceName;
  /** The address clients use (what status shows and health checks hit). */
  address(cfg: Config): HostPort;
  /** Every port our server binds, so a foreign process on any of them is caught before starting. */
  ports(cfg: Config): HostPort[];
  /** Found in /proc/<pid>/cmdline of our server: guards against reused pids. */
  processMarker: string;
  startTimeoutMs: number;
  /** Signal for a clean, quick shutdown (PostgreSQL's SIGTERM waits for clients to disconnect). */
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  /** Idempotent and fast once installed; slow steps log a line first. */
  install(ctx: StackContext): Promise<void>;
  /** One-time data setup (format, initdb) and the command line for this start. */
  prepare(ctx: StackContext): Promise<DetachedSpec>;
  /** Passes once the server answers, before afterStart; defaults to health. */
  ready?(ctx: StackContext): Promise<void>;
  /** Idempotent setup that needs a running server (PostgreSQL's app role and database). */
  afterStart?(ctx: StackContext): Promise<void>;
  /**
   * Why our running server must be replaced before use (e.g. "Kafka 3.9.1" when the stack now runs
   * another version), or undefined when it is what `install` provides.
   */
  outdated?(pid: number): string | undefined;
  /** Throws (with the reason) unless the service does real work for the app. */
  health(cfg: Config, timeoutMs: number): Promise<void>;
}

/**
 * A stamp file written only after an install step finished, holding the pinned version: an
 * interrupted install is redone, and bumping a pinned version reinstalls.
 */
export function isInstalled(stampFile: string, version: string): boolean {
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === version;
}

export function markInstalled(stampFile: string, version: string): void {
  writeFileSync(stampFile, `${version}\n`);
}
