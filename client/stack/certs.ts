// The secured stack's certificates: a local CA made on the spot with openssl, a server certificate
// for 127.0.0.1/localhost that every secured server presents, and a client certificate for mTLS.
// Made once per state folder (git-ignored) and kept, so clients that trust the CA go on trusting it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureCommand, runInstallStep } from './process';

export interface StackCerts {
  dir: string;
  /** The CA clients trust (PEM). */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Key and certificate chain in one PEM file: Kafka's PEM keystore. */
  serverKeystore: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate whose validity ended before it began to be used: what an expired one looks like. */
  expiredClientCert: string;
  /** A second CA and a client certificate it signed: a certificate no secured server trusts. */
  strangerCa: string;
  strangerClientCert: string;
  strangerClientKey: string;
}

export function stackCerts(dir: string): StackCerts {
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    serverKeystore: f('server-keystore.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    expiredClientCert: f('client-expired.pem'),
    strangerCa: f('stranger-ca.pem'),
    strangerClientCert: f('stranger-client.pem'),
    strangerClientKey: f('stranger-client.key'),
  };
}

const openssl = (args: string[], logFile: string) => runInstallStep({ command: 'openssl', args }, logFile);

async function makeCa(key: string, cert: string, name: string, logFile: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3650',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    logFile,
  );
}

async function makeLeaf(
  c: { caKey: string; caCert: string; key: string; cert: string; cn: string; ext: string; days: string },
  logFile: string,
): Promise<void> {
  const csr = `${c.cert}.csr`;
  const extFile = `${c.cert}.ext`;
  writeFileSync(extFile, c.ext);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', c.key, '-out', csr, '-subj', `/CN=${c.cn}`], logFile);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      c.caCert,
      '-CAkey',
      c.caKey,
      '-CAcreateserial',
      '-out',
      c.cert,
      '-days',
      c.days,
      '-extfile',
      extFile,
    ],
    logFile,
  );
}

/** Creates what is missing; the keys are readable by their owner only. */
export async function ensureStackCerts(certs: StackCerts, logFile: string): Promise<void> {
  if (existsSync(certs.strangerClientKey) && existsSync(certs.serverKeystore)) return;
  await ensureCommand('openssl', 'openssl', logFile, () => undefined);
  mkdirSync(certs.dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(certs.dir, 'ca.key');
  await makeCa(caKey, certs.ca, 'etl local stack CA', logFile);
  const server = 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth,clientAuth\n';
  const client = 'extendedKeyUsage=clientAuth\n';
  await makeLeaf(
    { caKey, caCert: certs.ca, key: certs.serverKey, cert: certs.serverCert, cn: 'localhost', ext: server, days: '825' },
    logFile,
  );
  await makeLeaf(
    { caKey, caCert: certs.ca, key: certs.clientKey, cert: certs.clientCert, cn: 'etl-client', ext: client, days: '825' },
    logFile,
  );
  // -days 0: valid from now until now, so expired by the time anyone presents it (same key as the good one).
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${certs.clientCert}.csr`,
      '-CA',
      certs.ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      certs.expiredClientCert,
      '-days',
      '0',
    ],
    logFile,
  );
  const strangerKey = path.join(certs.dir, 'stranger-ca.key');
  await makeCa(strangerKey, certs.strangerCa, 'a CA nobody here trusts', logFile);
  await makeLeaf(
    {
      caKey: strangerKey,
      caCert: certs.strangerCa,
      key: certs.strangerClientKey,
      cert: certs.strangerClientCert,
      cn: 'stranger',
      ext: client,
      days: '825',
    },
    logFile,
  );
  writeFileSync(certs.serverKeystore, readFileSync(certs.serverKey, 'utf8') + readFileSync(certs.serverCert, 'utf8'));
  for (const key of [caKey, strangerKey, certs.serverKey, certs.clientKey, certs.strangerClientKey, certs.serverKeystore])
    chmodSync(key, 0o600);
}
