// One lake write in a process of its own, for the test that SIGKILLs it mid-write: it prints
// `PUT done` once its first file has landed in S3 and then hangs, so the kill falls between a PUT and
// the manifest's commit (with the advisory lock and a snapshot held). Config comes from the
// environment (test/support/isolation.ts configEnv).
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { writeLakeObject } from '../../activities/lake/write';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';

const [stream, id] = process.argv.slice(2);
const clients = buildClients(loadConfig());
const s3 = new Proxy(clients.s3, {
  get(target, prop, receiver) {
    if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
    return async (command: unknown) => {
      const out = (await target.send(command as never)) as unknown;
      if (command instanceof PutObjectCommand) {
        process.stdout.write('PUT done\n');
        await new Promise(() => undefined); // until killed
      }
      return out;
    };
  },
}) as S3Client;
async function main(): Promise<void> {
  await writeLakeObject({ ...clients, s3 }, { stream: stream!, bronzeObjectId: Number(id) });
  process.stdout.write('write finished: the test expected to kill it first\n');
  await clients.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
