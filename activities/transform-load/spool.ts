// Local files the one pass writes for the load to read back: lines appended in 64 KB chunks with
// backpressure, so neither an object's rows nor its quarantine entries are ever held whole in memory.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const CHUNK_CHARS = 64 * 1024;

export class Spool {
  private readonly out: WriteStream;
  private chunk = '';
  private failure: Error | undefined;
  lines = 0;
  constructor(readonly file: string) {
    this.out = createWriteStream(file);
    this.out.on('error', (err) => (this.failure = err));
  }
  /** Appends `line`, which ends with its own newline. */
  async add(line: string): Promise<void> {
    this.lines++;
    this.chunk += line;
    if (this.chunk.length < CHUNK_CHARS) return;
    if (this.failure ?? this.out.destroyed) throw this.failure ?? new Error(`spool ${this.file} was closed`);
    const full = this.out.write(this.chunk);
    this.chunk = '';
    // 'close' too: a spool destroyed while its writer waits must not leave the writer waiting.
    if (!full) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('close', done);
      });
    }
  }
  async close(): Promise<void> {
    this.out.end(this.chunk);
    this.chunk = '';
    await once(this.out, 'close');
    if (this.failure) throw this.failure;
  }
  destroy(): void {
    this.out.destroy();
  }
}

/** The lines of a spool file, in order, without their newlines. */
export async function* spooledLines(file: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) yield line;
}
