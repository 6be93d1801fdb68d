// docker-compose.yml must stay interchangeable with the no-Docker stack (client/stack/): same host
// ports as the config defaults, and only variable names the app actually reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { KAFKA_VERSION } from '../../client/stack/kafka-data';
import { configSchema, loadConfig, PROJECT_ROOT } from '../../lib/config';

interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition?: string }>;
}

const compose = parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const defaults = configSchema.parse({});
const portOf = (hostPort: string) => Number(hostPort.split(':').pop());
const urlPort = (url: string) => Number(new URL(url).port);

/** Each infrastructure service and the host ports it must publish, from the config defaults. */
const expectedPorts: Record<string, number[]> = {
  temporal: [portOf(defaults.TEMPORAL_ADDRESS), defaults.TEMPORAL_UI_PORT],
  kafka: [portOf(defaults.KAFKA_BROKERS[0]!)],
  minio: [urlPort(defaults.S3_ENDPOINT)],
  postgres: [urlPort(defaults.DATABASE_URL)],
};

/** "127.0.0.1:9092:9092" or "9092:9092" -> the published host port. */
function publishedPort(mapping: string): number {
  const parts = mapping.split(':');
  assert.ok(parts.length >= 2, `port mapping ${mapping} should name the host port`);
  return Number(parts[parts.length - 2]);
}

describe('docker-compose.yml', () => {
  it('has the four infrastructure services and a worker', () => {
    for (const name of [...Object.keys(expectedPorts), 'worker']) {
      assert.ok(compose.services[name], `service ${name} is missing`);
    }
  });

  for (const [name, ports] of Object.entries(expectedPorts)) {
    it(`${name} publishes the default port(s) ${ports.join(', ')} on the host`, () => {
      const published = (compose.services[name]?.ports ?? []).map(publishedPort).sort((a, b) => a - b);
      assert.deepEqual(
        published,
        [...ports].sort((a, b) => a - b),
      );
    });

    it(`${name} has a healthcheck the worker waits for`, () => {
      assert.ok(compose.services[name]?.healthcheck?.test, `${name} has no healthcheck`);
      assert.equal(compose.services.worker?.depends_on?.[name]?.condition, 'service_healthy');
    });
  }

  it('runs the same Kafka release as the local stack (the official apache/kafka image)', () => {
    assert.equal(compose.services.kafka?.image, `apache/kafka:${KAFKA_VERSION}`);
  });

  it('builds the worker on the Node line the project runs on, and runs the built worker', () => {
    const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const launcher = readFileSync(path.join(PROJECT_ROOT, 'scripts', 'launch.mjs'), 'utf8');
    const line = /export const NODE_LINE = (\d+);/.exec(launcher)![1];
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(bases.length > 0 && bases.every((b) => b!.startsWith(`node:${line}-`)), `FROM ${bases.join(', ')} (Node ${line} expected)`);
    assert.match(dockerfile, /RUN npm run build/);
    assert.match(dockerfile, /^CMD \[.*"dist\/client\/main\.js", "worker"\]/m);
  });

  it('sets only configuration variables the app reads on the worker', () => {
    const known = new Set(Object.keys(configSchema.shape));
    const env = Object.keys(compose.services.worker?.environment ?? {});
    assert.ok(env.length > 0, 'the worker gets no environment');
    assert.deepEqual(
      env.filter((k) => !known.has(k)),
      [],
    );
  });

  it('points the worker at the compose services, and its values parse as config', () => {
    const env = compose.services.worker?.environment ?? {};
    // ${VAR:-default} is resolved by Compose; here the default stands in for it.
    const resolved = Object.fromEntries(
      Object.entries(env)
        .map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')])
        .filter(([, v]) => v !== ''), // an empty variable is unset (lib/config.ts)
    );
    const cfg = configSchema.parse(resolved);
    const hosts = [
      cfg.TEMPORAL_ADDRESS.split(':')[0],
      ...cfg.KAFKA_BROKERS.map((b) => b.split(':')[0]),
      new URL(cfg.S3_ENDPOINT).hostname,
      new URL(cfg.DATABASE_URL).hostname,
    ];
    for (const host of hosts) assert.ok(host && compose.services[host], `worker address host ${host} is not a compose service`);
  });

  it("passes the read-only role's password through, which the worker refuses to leave at its default", () => {
    const env = compose.services.worker?.environment ?? {};
    assert.equal(env.PG_READER_PASSWORD, '${PG_READER_PASSWORD:-}');
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));
    assert.throws(
      () => loadConfig(resolved, '/nonexistent/.env'),
      /PG_READER_PASSWORD=\(unset\): the read-only role's default password is refused/,
    );
    assert.equal(loadConfig({ ...resolved, PG_READER_PASSWORD: 'set-in-env' }, '/nonexistent/.env').PG_READER_PASSWORD, 'set-in-env');
  });
});
