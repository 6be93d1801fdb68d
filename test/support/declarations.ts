// Stream declarations written to a folder of their own outside the repository, as a user keeps
// them (ETL_STREAMS_DIR): a test loads them through the real loader, threads included.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface DeclarationsDir {
  dir: string;
  /** Writes (or rewrites) one file of the folder. */
  write(file: string, source: string): void;
  remove(): void;
}

export function declarationsDir(files: Readonly<Record<string, string>> = {}): DeclarationsDir {
  const dir = mkdtempSync(path.join(tmpdir(), 'etl-streams-'));
  const write = (file: string, source: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  };
  for (const [file, source] of Object.entries(files)) write(file, source);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
