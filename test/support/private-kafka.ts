// A Kafka broker of a test's own, on free ports with a state folder of its own (the installed jars
// are shared), for a test that stops, restarts or replaces the broker: the shared stack's broker
// serves the test files that run beside it. The other servers stay the shared ones.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackDown } from '../../client/stack';
import { ensureStackDirs, stackPaths } from '../../client/stack/paths';
import type { Config } from '../../lib/config';
import { freePort } from './ports';

export interface PrivateKafka {
  /** `base` with its own state folder and a broker address of its own; `stackUp(config, { only: ['kafka'] })` starts that broker. */
  config: Config;
  /** Stops the private broker and deletes its folder. */
  remove(): Promise<void>;
}

export async function privateKafka(base: Config): Promise<PrivateKafka> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etl-private-kafka-'));
  const config: Config = {
    ...base,
    ETL_STATE_DIR: dir,
    KAFKA_BROKERS: [`127.0.0.1:${await freePort()}`],
    KAFKA_CONTROLLER_PORT: await freePort(),
  };
  const paths = stackPaths(config);
  ensureStackDirs(paths);
  symlinkSync(path.join(base.ETL_STATE_DIR, 'cache', 'kafka'), path.join(paths.cache, 'kafka'));
  return {
    config,
    async remove() {
      await stackDown(config, { only: ['kafka'] }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
