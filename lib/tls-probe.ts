// What a failed connection does not say: gRPC reports a refused client certificate as "failed to
// connect before the deadline", and a server that wants TLS just drops a plain connection (Kafka,
// S3 over http://), which reads like an outage. One TLS handshake of our own tells these apart, so
// the error can say what to fix and stop retrying instead of waiting for a server that is up.
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { tlsFailure, type TlsFailure } from './network';

const SETTLE_MS = 300;

/**
 * With `options` (the client's TLS settings): the handshake's failure, or undefined when it passes
 * (also after TLS 1.3's late alerts: a refused client certificate arrives just after the handshake).
 * Without (the client speaks plain TCP): `tls-required` when the server completes a TLS handshake.
 */
export function probeTls(
  host: string,
  port: number,
  options: tls.ConnectionOptions | undefined,
  timeoutMs = 2_000,
): Promise<TlsFailure | undefined> {
  const expired = expiredClientCert(options);
  if (expired) return Promise.resolve(expired);
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    const socket = tls.connect({
      host,
      port,
      ...(net.isIP(host) ? {} : { servername: host }),
      ...(options ?? { rejectUnauthorized: false }),
    });
    const done = (result: TlsFailure | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('secureConnect', () => {
      if (!options) return done({ kind: 'tls-required', reason: 'the server accepts TLS connections only, and this one was plain' });
      setTimeout(() => done(undefined), SETTLE_MS);
    });
    socket.on('data', () => (answered = true)); // reading is what surfaces a late alert
    // Some servers (Node's among them) drop a connection whose certificate they refuse without an alert.
    socket.once('close', () => {
      if (options?.cert && !answered)
        done({
          kind: 'client-cert-rejected',
          reason: 'the server closed the connection after the handshake: it refused the client certificate',
        });
    });
    socket.once('error', (err) => done(options ? tlsFailure(err) : undefined));
  });
}

/** A client certificate past its end is refused by every server: say so without asking one. */
function expiredClientCert(options: tls.ConnectionOptions | undefined): TlsFailure | undefined {
  const cert = options?.cert;
  if (!cert || Array.isArray(cert)) return undefined;
  try {
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) <= Date.now())
      return { kind: 'expired', reason: `the client certificate expired on ${new Date(Date.parse(x509.validTo)).toISOString()}` };
  } catch {
    // not parseable here: the handshake will say
  }
  return undefined;
}

/** host and port of "host:port" or of a URL. */
export function addressOf(address: string, defaultPort: number): { host: string; port: number } {
  if (/^[a-z]+:\/\//i.test(address)) {
    const u = new URL(address);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || defaultPort };
  }
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}
