import type { WorkflowHandle } from '@temporalio/client';
import { SingleBar, Presets } from 'cli-progress';
import type { Config } from '../lib/config';
import { isEtlError, type EtlError } from '../lib/errors';
import { classifyPostgresError } from '../lib/postgres';
import { isNetworkError, networkErrorTarget } from '../lib/network';
import { classifyKafkaError } from '../lib/kafka';
import { postgresAddress } from '../lib/postgres';
import { classifyS3Error } from '../lib/s3';

/** Where a command's result goes: stdout, a line at a time. */
export type Say = (line: string) => void;

/** Progress and notes while stdout carries JSON. */
export const sayErr = (line: string) => process.stderr.write(line + '\n');

/** A plain aligned table: what people read in a terminal and what tests can parse. */
export function formatTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export const fmt = (n: number | string | bigint) => Number(n).toLocaleString('en-US');

/** A name from the data (a record's field) as a terminal may print it: quoted and escaped unless it is visible characters and spaces. */
export const shownField = (field: string) => (/^[\p{L}\p{N}\p{P}\p{S} ]+$/u.test(field) ? field : JSON.stringify(field));

/** A progress bar on stderr when it is a terminal; silent otherwise (CI logs stay readable). */
export function progressBar(label: string, total: number): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) {
    return { update: () => undefined, stop: () => undefined };
  }
  const bar = new SingleBar(
    {
      format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  const began = Date.now();
  bar.start(total, 0, { rate: 0 });
  return {
    update(n: number) {
      const secs = (Date.now() - began) / 1000;
      bar.update(n, { rate: secs > 0 ? fmt(Math.round(n / secs)) : 0 });
    },
    stop: () => bar.stop(),
  };
}

/**
 * Waits for a run's result, drawing a bar from its `progress` query once a second. `measure` maps a
 * progress answer to done/total, or undefined while there is nothing to draw yet.
 */
export async function waitWithProgress<P, R>(
  handle: WorkflowHandle,
  label: string,
  measure: (p: P) => { done: number; total: number } | undefined,
): Promise<R> {
  let bar: ReturnType<typeof progressBar> | undefined;
  const timer = setInterval(() => {
    handle
      .query<P>('progress')
      .then((p) => {
        const m = measure(p);
        if (!m || m.total <= 0) return;
        bar ??= progressBar(label, m.total);
        bar.update(Math.min(m.done, m.total));
      })
      .catch(() => undefined);
  }, 1_000);
  try {
    return (await handle.result()) as R;
  } finally {
    clearInterval(timer);
    bar?.stop();
  }
}

const portOf = (url: string, fallback: number): number | undefined => {
  try {
    const u = new URL(url);
    return Number(u.port || fallback);
  } catch {
    return undefined;
  }
};

/**
 * A connection failure that reached the top unclassified (a code path that forgot to) still names
 * the server it failed on, its address and how to start it, found by the port it tried.
 */
export function unreachableServer(err: unknown, config: Config): EtlError | undefined {
  if (!isNetworkError(err)) return undefined;
  const port = networkErrorTarget(err)?.port;
  if (port === undefined) return undefined;
  const known = (e: unknown) => (isEtlError(e) ? e : undefined);
  if (port === portOf(config.DATABASE_URL, 5432)) return classifyPostgresError(err, postgresAddress(config.DATABASE_URL));
  if (config.KAFKA_BROKERS.some((b) => Number(b.slice(b.lastIndexOf(':') + 1)) === port))
    return known(classifyKafkaError(err, config.KAFKA_BROKERS));
  if (port === portOf(config.S3_ENDPOINT, 80)) return known(classifyS3Error(err, config.S3_ENDPOINT));
  return undefined;
}
