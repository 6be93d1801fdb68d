// How a command reaches the servers: clients made for the one command and closed when it is done.
import type { Client } from '@temporalio/client';
import { buildClients, type Clients } from '../lib/clients';
import { loadConfig, type Config } from '../lib/config';
import { withPostgresErrors } from '../lib/postgres';
import { connectClient } from '../lib/temporal';

/** Every command reading PostgreSQL goes through here: a server that is down is one line, POSTGRES_UNREACHABLE. */
export async function withClients<T>(fn: (clients: Clients) => Promise<T>): Promise<T> {
  const clients = buildClients(loadConfig());
  try {
    return await withPostgresErrors(clients.config.DATABASE_URL, () => fn(clients));
  } finally {
    await clients.close();
  }
}

/** A command talking to Temporal: the config read for it and a client, closed afterwards. */
export async function withClient<T>(fn: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    return await fn(client, config);
  } finally {
    await client.connection.close();
  }
}
