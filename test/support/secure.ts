// The secured local stack for integration tests: started (or found running) by the first test
// that needs it, and the configuration a client uses against it. Tests stay isolated on it as on
// the plain stack (isolatedEnv: own schema, topics, prefix, task queue).
import { loadConfig, type Config } from '../../lib/config';
import { secureClientConfig, secureStack, stackUp } from '../../client/stack';
import type { SecureStack } from '../../client/stack/secure';
import { isolatedEnv, type TestEnv } from './harness';

let started: Promise<{ config: Config; stack: SecureStack }> | undefined;

/** Starts the secured stack unless it runs (quick when it does), once per test process. */
export function secureStackForTests(): Promise<{ config: Config; stack: SecureStack }> {
  started ??= (async () => {
    const base = loadConfig();
    await stackUp(base, { secure: true, log: (line) => process.stderr.write(`  [secure stack] ${line}\n`) });
    const stack = await secureStack(base, false);
    return { config: secureClientConfig(base, stack), stack };
  })();
  return started;
}

/** The variables in which the secured stack's client configuration differs from the plain one. */
export function secureOverrides(secure: Config, base: Config = loadConfig()): Partial<Config> {
  const differs = ([key, value]: [string, unknown]) => JSON.stringify(value) !== JSON.stringify(base[key as keyof Config]);
  return Object.fromEntries(Object.entries(secure).filter(differs)) as Partial<Config>;
}

/** isolatedEnv on the secured stack. */
export async function isolatedSecureEnv(name: string, overrides: Partial<Config> = {}): Promise<TestEnv> {
  const { config } = await secureStackForTests();
  return isolatedEnv(name, { ...secureOverrides(config), ...overrides });
}
