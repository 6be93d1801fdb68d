// Health probing shared by the services: TCP reachability, deadlines, polling, log tails.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import net from 'node:net';
import type { HostPort } from './paths';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms` so one hung probe cannot stall `stack up` or `stack status`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True if something accepts TCP connections at the address. */
export function tcpOpen({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Polls `probe` until it resolves or the deadline passes; `stillRunning` lets a crashed server fail
 * fast instead of waiting out the whole timeout. The last probe error explains the failure.
 */
export async function waitUntil(probe: () => Promise<void>, timeoutMs: number, stillRunning: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    if (!stillRunning()) throw new Error(`the process exited (last probe: ${describe(lastError)})`);
    if (Date.now() > deadline) throw new Error(`not healthy after ${Math.round(timeoutMs / 1000)} s (last probe: ${describe(lastError)})`);
    await sleep(500);
  }
}

export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return err.errors.map(describe).join('; ');
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** The last `lines` lines of a log, read from its end so huge logs stay cheap. */
export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log file yet)';
  const size = statSync(file).size;
  const length = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
