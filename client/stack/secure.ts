// The secured local stack (`etl stack up --secure`): the same servers, configured the way managed
// ones are: Kafka behind a SASL_SSL listener with SCRAM users, PostgreSQL accepting TLS logins only,
// S3 over HTTPS, and Temporal behind a TLS proxy that requires a client certificate (the dev server
// cannot serve TLS itself). It runs beside the plain stack: its own ports, and its data, logs and
// pid files under <ETL_STATE_DIR>/secure; installed servers are shared with the plain stack.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { ensureStackCerts, stackCerts, type StackCerts } from './certs';

/** Fixed, so a client can be pointed at the secured stack without reading anything (docs/development.md). */
export const SECURE_PORTS = {
  temporal: 17233,
  /** The dev server behind the proxy: plain gRPC on loopback, never handed to clients. */
  temporalBackend: 17234,
  temporalUi: 18233,
  kafka: 19092,
  kafkaController: 19093,
  s3: 19000,
  postgres: 15432,
} as const;

/** Passwords the secured servers are set up with: generated once per state folder, kept in files only the owner reads. */
export interface SecureSecrets {
  kafkaAdminPassword: string;
  kafkaPassword: string;
  postgresPassword: string;
  s3SecretKey: string;
}

export interface SecureStack {
  root: string;
  certs: StackCerts;
  secrets: SecureSecrets;
  secretFiles: Record<keyof SecureSecrets, string>;
  /** Kafka user of the app (SCRAM-SHA-512 and -256, and PLAIN). */
  kafkaUser: string;
}

export const secureRoot = (base: Pick<Config, 'ETL_STATE_DIR'>): string => path.join(base.ETL_STATE_DIR, 'secure');

function secretFilesOf(root: string): Record<keyof SecureSecrets, string> {
  const dir = path.join(root, 'secrets');
  return {
    kafkaAdminPassword: path.join(dir, 'kafka-admin-password'),
    kafkaPassword: path.join(dir, 'kafka-password'),
    postgresPassword: path.join(dir, 'postgres-password'),
    s3SecretKey: path.join(dir, 's3-secret-key'),
  };
}

/** Reads the secured stack's material, making what is missing (certificates, passwords) first when `create`. */
export async function secureStack(base: Pick<Config, 'ETL_STATE_DIR'>, create: boolean, logFile?: string): Promise<SecureStack> {
  const root = secureRoot(base);
  const files = secretFilesOf(root);
  const certs = stackCerts(path.join(root, 'certs'));
  if (create) {
    mkdirSync(root, { recursive: true }); // traversable: PostgreSQL runs as its own user below it
    mkdirSync(path.join(root, 'secrets'), { recursive: true, mode: 0o700 });
    for (const file of Object.values(files)) {
      if (!existsSync(file)) writeFileSync(file, `${randomBytes(18).toString('hex')}\n`, { mode: 0o600 });
    }
    mkdirSync(path.join(root, 'logs'), { recursive: true });
    await ensureStackCerts(certs, logFile ?? path.join(root, 'logs', 'install-certs.log'));
    linkInstalls(base.ETL_STATE_DIR, root);
  }
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : '');
  return {
    root,
    certs,
    secretFiles: files,
    kafkaUser: 'etl',
    secrets: {
      kafkaAdminPassword: read(files.kafkaAdminPassword),
      kafkaPassword: read(files.kafkaPassword),
      postgresPassword: read(files.postgresPassword),
      s3SecretKey: read(files.s3SecretKey),
    },
  };
}

/** The secured stack runs the servers the plain one installed: bin/ and cache/ are links to its folders. */
function linkInstalls(baseDir: string, root: string): void {
  for (const dir of ['bin', 'cache']) {
    mkdirSync(path.join(baseDir, dir), { recursive: true });
    const link = path.join(root, dir);
    let present = false;
    try {
      present = lstatSync(link) !== undefined;
    } catch {
      present = false;
    }
    if (!present) symlinkSync(path.join('..', dir), link);
  }
}

/**
 * The configuration a client uses against the secured stack: every connection encrypted and
 * authenticated, certificates verified against the local CA (PostgreSQL with verify-full).
 */
export function secureClientConfig(base: Config, s: SecureStack): Config {
  return {
    ...base,
    TEMPORAL_ADDRESS: `127.0.0.1:${SECURE_PORTS.temporal}`,
    TEMPORAL_UI_PORT: SECURE_PORTS.temporalUi,
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_CLIENT_CERT_PATH: s.certs.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: s.certs.clientKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: s.certs.ca,
    // The certificate names 127.0.0.1 too, but an IP address is no valid TLS server name (SNI, RFC 6066).
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    TEMPORAL_API_KEY: '',
    KAFKA_BROKERS: [`127.0.0.1:${SECURE_PORTS.kafka}`],
    KAFKA_CONTROLLER_PORT: SECURE_PORTS.kafkaController,
    KAFKA_TLS: true,
    KAFKA_TLS_CA_FILE: s.certs.ca,
    KAFKA_TLS_CERT_FILE: '',
    KAFKA_TLS_KEY_FILE: '',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: s.kafkaUser,
    KAFKA_SASL_PASSWORD: s.secrets.kafkaPassword,
    KAFKA_SASL_OAUTH_TOKEN: '',
    KAFKA_SASL_OAUTH_TOKEN_FILE: '',
    S3_ENDPOINT: `https://127.0.0.1:${SECURE_PORTS.s3}`,
    S3_CREDENTIALS: 'static',
    S3_ACCESS_KEY_ID: 'etl-secure',
    S3_SECRET_ACCESS_KEY: s.secrets.s3SecretKey,
    S3_CA_FILE: s.certs.ca,
    DATABASE_URL: `postgres://etl@127.0.0.1:${SECURE_PORTS.postgres}/etl`,
    PG_PASSWORD: s.secrets.postgresPassword,
    PG_SSLMODE: 'verify-full',
    PG_SSL_CA_FILE: s.certs.ca,
    PG_SSL_CERT_FILE: '',
    PG_SSL_KEY_FILE: '',
  };
}

/**
 * The same as variables, secrets by file: what `etl stack up --secure` writes to secure/client.env
 * for a shell (`set -a; . .stack/secure/client.env; set +a`) or a `.env`.
 */
export function secureClientEnv(s: SecureStack): string {
  const lines = [
    '# Written by `etl stack up --secure`: the secured local stack, as clients reach it. Secrets are files.',
    `TEMPORAL_ADDRESS=127.0.0.1:${SECURE_PORTS.temporal}`,
    `TEMPORAL_UI_PORT=${SECURE_PORTS.temporalUi}`,
    'TEMPORAL_TLS=true',
    `TEMPORAL_TLS_CLIENT_CERT_PATH=${s.certs.clientCert}`,
    `TEMPORAL_TLS_CLIENT_KEY_PATH=${s.certs.clientKey}`,
    `TEMPORAL_TLS_SERVER_CA_CERT_PATH=${s.certs.ca}`,
    'TEMPORAL_TLS_SERVER_NAME=localhost',
    `KAFKA_BROKERS=127.0.0.1:${SECURE_PORTS.kafka}`,
    `KAFKA_CONTROLLER_PORT=${SECURE_PORTS.kafkaController}`,
    'KAFKA_TLS=true',
    `KAFKA_TLS_CA_FILE=${s.certs.ca}`,
    'KAFKA_SASL_MECHANISM=scram-sha-512',
    `KAFKA_SASL_USERNAME=${s.kafkaUser}`,
    `KAFKA_SASL_PASSWORD_FILE=${s.secretFiles.kafkaPassword}`,
    `S3_ENDPOINT=https://127.0.0.1:${SECURE_PORTS.s3}`,
    'S3_ACCESS_KEY_ID=etl-secure',
    `S3_SECRET_ACCESS_KEY_FILE=${s.secretFiles.s3SecretKey}`,
    `S3_CA_FILE=${s.certs.ca}`,
    `DATABASE_URL=postgres://etl@127.0.0.1:${SECURE_PORTS.postgres}/etl`,
    `PG_PASSWORD_FILE=${s.secretFiles.postgresPassword}`,
    'PG_SSLMODE=verify-full',
    `PG_SSL_CA_FILE=${s.certs.ca}`,
  ];
  const file = path.join(s.root, 'client.env');
  writeFileSync(file, `${lines.join('\n')}\n`);
  chmodSync(file, 0o600);
  return file;
}

/**
 * The configuration the secured servers are started from: the client one, with the state folder
 * moved to secure/ (so data, logs and pids are its own) and the S3 root user's keys.
 */
export function secureServerConfig(base: Config, s: SecureStack): Config {
  return { ...secureClientConfig(base, s), ETL_STATE_DIR: s.root };
}
