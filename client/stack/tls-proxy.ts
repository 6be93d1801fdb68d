// A TLS-terminating TCP proxy, run as its own process by the secured stack in front of the Temporal
// dev server (which cannot serve TLS): it requires a client certificate signed by the stack's CA,
// offers HTTP/2 by ALPN as gRPC clients expect, and pipes the decrypted bytes to the dev server.
// Self-contained (node: modules only), so it starts from the sources or the build alike.
//   ETL_PROXY_LISTEN=127.0.0.1:17233 ETL_PROXY_TARGET=127.0.0.1:17234 ETL_PROXY_CERT=… ETL_PROXY_KEY=… ETL_PROXY_CA=… node tls-proxy.js
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

function hostPort(value: string | undefined, name: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(value ?? '');
  if (!m) throw new Error(`${name} must be host:port, got ${JSON.stringify(value)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

function main(): void {
  const env = process.env;
  const listen = hostPort(env.ETL_PROXY_LISTEN, 'ETL_PROXY_LISTEN');
  const target = hostPort(env.ETL_PROXY_TARGET, 'ETL_PROXY_TARGET');
  const server = tls.createServer(
    {
      cert: readFileSync(env.ETL_PROXY_CERT!),
      key: readFileSync(env.ETL_PROXY_KEY!),
      ca: readFileSync(env.ETL_PROXY_CA!),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      const upstream = net.connect(target);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    },
  );
  // One line per refused handshake: what a person debugging a client's certificate wants to see.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    process.stdout.write(`${new Date().toISOString()} refused ${socket.remoteAddress ?? '?'}: ${err.code ?? ''} ${err.message}\n`);
  });
  server.listen(listen.port, listen.host, () => {
    process.stdout.write(
      `${new Date().toISOString()} tls-proxy listening on ${listen.host}:${listen.port}, forwarding to ${target.host}:${target.port}\n`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
