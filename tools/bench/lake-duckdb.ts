// The lake's DuckDB step (activities/lake/parquet.ts) on one small object, written over and over:
// once with the process's one instance (what a worker does), once with an instance opened and closed
// per write (what it did before). No server is needed. Figures in docs/performance.md, "Lake writes".
//
//   npx tsx tools/bench/lake-duckdb.ts [rows per object, default 500] [writes, default 200]
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeParquetByDate, type LakeColumn } from '../../activities/lake/parquet';
import { createDuckDb, type DuckDb } from '../../lib/duckdb';

const columns: LakeColumn[] = [
  { name: 'id', pgType: 'bigint' },
  { name: 'amount', pgType: 'numeric(12,2)' },
  { name: 'city', pgType: 'text' },
  { name: 'event_ts', pgType: 'timestamp with time zone' },
];
const options = { rowGroupRows: 122_880, codec: 'zstd' as const, metadata: { 'etl.stream': 'bench' } };
const settings = { LAKE_MEMORY_LIMIT_MB: 512 };

async function measure(label: string, writes: number, write: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 10; i++) await write(); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < writes; i++) await write();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const perWrite = (n: number) => (n / writes).toFixed(2);
  console.log(`${label.padEnd(26)} ${perWrite(ms)} ms/write wall, ${perWrite((cpu.user + cpu.system) / 1000)} ms/write CPU`);
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 500);
  const writes = Number(process.argv[3] ?? 200);
  const dir = await mkdtemp(path.join(tmpdir(), 'etl-bench-lake-'));
  try {
    const csv = path.join(dir, 'rows.csv');
    const lines = Array.from({ length: rows }, (_, i) => {
      const day = `2026-11-2${i % 2}`;
      return `${i},${(i * 1.37).toFixed(2)},city${i % 17},${day}T10:00:00+00,${day}`;
    });
    await writeFile(csv, `${lines.join('\n')}\n`);
    // An instance reads and writes only inside its own work directory (lib/duckdb.ts): each write gets a copy there.
    const writeWith = async (duckdb: DuckDb) => {
      const work = await duckdb.workDir('bench-');
      await copyFile(csv, path.join(work, 'rows.csv'));
      await writeParquetByDate(duckdb, path.join(work, 'rows.csv'), columns, 'id', work, options);
      await rm(work, { recursive: true, force: true });
    };
    const shared = createDuckDb(settings);
    await measure('one instance per process', writes, async () => {
      await writeWith(shared);
    });
    await shared.close();
    await measure('one instance per write', writes, async () => {
      const own = createDuckDb(settings);
      try {
        await writeWith(own);
      } finally {
        await own.close();
      }
    });
    console.log(`(${rows} rows, 2 event dates per object, ${writes} writes each)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
