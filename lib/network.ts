// Recognising a failed connection by its error, whichever client made it: the network codes of
// Node's sockets and the TLS failures of its handshakes. Each client's own recognition
// (lib/postgres.ts, lib/kafka.ts, lib/s3.ts) builds on these.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const errors = (e as { errors?: unknown }).errors; // AggregateError from net.connect with several addresses
    if (Array.isArray(errors) && errors.some(isNetworkError)) return true;
  }
  return false;
}

/** host and port of the socket a network error failed on, if the error (or a cause) says. */
export function networkErrorTarget(err: unknown): { host?: string; port?: number } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { port, address } = e as { port?: unknown; address?: unknown };
    if (typeof port === 'number') return { port, host: typeof address === 'string' ? address : undefined };
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors))
      for (const inner of errors) {
        const t = networkErrorTarget(inner);
        if (t) return t;
      }
  }
  return undefined;
}

export interface TlsFailure {
  kind: 'untrusted' | 'hostname' | 'expired' | 'client-cert-missing' | 'client-cert-rejected' | 'not-tls' | 'tls-required' | 'other';
  reason: string;
}

export const TLS_REASONS: Record<TlsFailure['kind'], string> = {
  untrusted: 'the server certificate is not signed by a CA this client trusts',
  hostname: 'the server certificate does not name the host connected to',
  expired: 'a certificate has expired or is not valid yet',
  'client-cert-missing': 'the server requires a client certificate and none was sent',
  'client-cert-rejected': 'the server refused the client certificate',
  'not-tls': 'the other side does not speak TLS on that port',
  'tls-required': 'the server accepts TLS connections only, and this one was plain',
  other: 'the TLS handshake failed',
};

/** Node's TLS error codes (OpenSSL's, as Node names them), by what a person has to fix. */
const TLS_CODES: Record<string, TlsFailure['kind']> = {
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'expired',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'client-cert-missing',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'client-cert-rejected',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'client-cert-rejected',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'client-cert-rejected',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not-tls',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'not-tls',
  ERR_SSL_HTTP_REQUEST: 'not-tls',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'other',
};

/** The same failures as gRPC (grpc-js) and the Temporal core (rustls) word them in a message. */
const TLS_MESSAGES: [RegExp, TlsFailure['kind']][] = [
  [/self[- ]signed certificate|unable to (verify|get (local )?issuer)|UnknownIssuer|BadSignature|certificate verify failed/i, 'untrusted'],
  [/NotValidForName|altnames|does not match certificate|certificate is not valid for/i, 'hostname'],
  [/certificate has expired|\bExpired\b|CERTIFICATE_EXPIRED/i, 'expired'],
  [/certificate[ _]required|CertificateRequired/i, 'client-cert-missing'],
  [/bad[ _]certificate|BadCertificate|unknown[ _]ca|UnknownCA|certificate[ _]unknown/i, 'client-cert-rejected'],
  [/wrong version number|InvalidContentType|CorruptMessage|packet length too long|http request|InvalidMessage/i, 'not-tls'],
];

/** A TLS handshake failure anywhere in the causes (or in a message that only quotes one), or undefined. */
export function tlsFailure(err: unknown): TlsFailure | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
    const kind = typeof code === 'string' ? TLS_CODES[code] : undefined;
    if (kind) return { kind, reason: TLS_REASONS[kind] };
    const text = [message, details].filter((x) => typeof x === 'string').join(' ');
    if (!/TLS|SSL|certificate|handshake|rustls|tls/i.test(text)) continue;
    for (const [pattern, k] of TLS_MESSAGES) if (pattern.test(text)) return { kind: k, reason: TLS_REASONS[k] };
  }
  return undefined;
}
