// The worker of a chaos run: `bin/etl worker` as a separate process (as in production), which the
// harness SIGKILLs and starts again. bin/etl execs node, so the child's pid is the worker's; it still
// runs in a process group of its own, and a kill takes the whole group, so nothing it started lives on.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../lib/config';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The worker's JSON log line that says it polls; its pid names the Temporal worker identity.
const startedLine = z.object({ msg: z.string().startsWith('worker started'), pid: z.number().int().positive() });

export interface WorkerExit {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
}

export class ChaosWorker {
  private child?: ChildProcess;
  private readonly log: WriteStream;
  private expectingExit = false;
  private stopping = false;
  /** Temporal identity of the live worker (`pid@host`, the SDK's default); undefined while starting. */
  identity?: string;
  startedAt = 0;
  starts = 0;
  readonly exits: WorkerExit[] = [];

  constructor(
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly say: (line: string) => void,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.log.on('error', () => undefined); // a lost log line must not take the harness down
  }

  /** Spawns `etl worker` and resolves once it polls its task queue. */
  async start(timeoutMs = 120_000): Promise<void> {
    this.identity = undefined;
    this.expectingExit = false;
    this.starts++;
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    child.stdout.pipe(this.log, { end: false });
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (!this.log.writableEnded) this.log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) this.readLine(line);
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    const deadline = Date.now() + timeoutMs;
    while (!this.identity) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`etl worker exited before it started (see ${this.logFile})`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`etl worker did not start within ${timeoutMs / 1000} s (see ${this.logFile})`);
      }
      await sleep(50);
    }
    this.startedAt = Date.now();
  }

  private readLine(line: string): void {
    if (!line.includes('worker started')) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return;
    }
    const parsed = startedLine.safeParse(json);
    if (parsed.success) this.identity = `${parsed.data.pid}@${os.hostname()}`;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    const expected = this.expectingExit || this.stopping;
    const wasServing = this.identity !== undefined;
    this.exits.push({ at: Date.now(), code, signal, expected });
    this.identity = undefined;
    // One that dies while starting is start()'s to report; only a serving worker is replaced here.
    if (expected || !wasServing) return;
    // A worker that dies on its own (e.g. it gave up while a server was down) is restarted too:
    // the run must go on, and the report lists the exit.
    this.say(`worker exited on its own (code ${code}, signal ${signal}); starting another`);
    this.startRetrying().catch((err: unknown) => this.say(`could not start a worker again: ${(err as Error).message}`));
  }

  /** start(), again and again with a growing pause (a server it needs may be restarting). */
  async startRetrying(attempts = 10): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) return;
      try {
        return await this.start();
      } catch (err) {
        if (attempt >= attempts) throw err;
        await sleep(Math.min(10_000, 1_000 * attempt));
      }
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL to the whole process group, then waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await gone;
  }

  /** Graceful stop (SIGTERM drains in-flight activities), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM'); // the worker drains, as with Ctrl-C in a terminal
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await gone;
      clearTimeout(timer);
    }
    if (!this.log.writableEnded) await new Promise<void>((resolve) => this.log.end(resolve));
  }

  /** Last resort when the harness itself exits: never leave a worker polling a removed queue. */
  killNow(): void {
    this.stopping = true;
    if (this.child?.pid) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
