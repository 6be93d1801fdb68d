// `etl produce <stream>`: one subcommand per stream that declares synthetic events, with that
// source's own flags (streams/<stream>/synthetic.ts) next to the common --rows and --rate.
import { Option, type Command } from 'commander';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { produceSynthetic, syntheticSourceOf } from '../../activities/ingest/produce';
import { getStream, streamNames, topicFor } from '../../streams';
import type { SyntheticFlag } from '../../streams/types';
import { boundedDuration, isoTime, nameList, nonNegativeInt, positiveInt, seed, TIME_FLAG_FORMAT } from '../args';
import { fmt, progressBar } from '../output';

export interface ProduceArgs {
  stream: string;
  rows: number;
  rate: number;
  /** Every other field is a generator option of the stream's synthetic source, as its `resolve` made it. */
  [generatorOption: string]: unknown;
}

export async function produce(clients: Clients, args: ProduceArgs): Promise<{ topic: string; produced: number; seconds: number }> {
  const { stream, rows, rate, ...options } = args;
  const topic = topicFor(clients.config.KAFKA_TOPIC_PREFIX, stream);
  const bar = progressBar('produce', rows);
  const began = Date.now();
  try {
    const produced = await produceSynthetic(clients.kafka, clients.config.KAFKA_BROKERS, stream, options, {
      topic,
      rows,
      rate,
      onProgress: (n) => bar.update(n),
      threads: { count: clients.config.PRODUCER_THREADS, settings: clients.config },
    });
    return { topic, produced, seconds: (Date.now() - began) / 1000 };
  } finally {
    bar.stop();
  }
}

export function describeProduce(r: { topic: string; produced: number; seconds: number }): string {
  return `produced ${fmt(r.produced)} events to topic ${r.topic} in ${r.seconds.toFixed(1)} s (${fmt(Math.round(r.produced / Math.max(r.seconds, 0.001)))}/s)`;
}

// Windows and intervals of generated events are positive; each source checks its own upper bounds.
const FLAG_PARSERS: Record<SyntheticFlag['kind'], (value: string) => unknown> = {
  seed,
  time: isoTime,
  duration: boundedDuration({ min: 1 }),
  list: nameList,
};

function flagOption(f: SyntheticFlag): Option {
  const description = f.kind === 'time' ? `${f.description} (${TIME_FLAG_FORMAT})` : f.description;
  if (f.default === undefined) {
    return new Option(f.flags, f.defaultDescription ? `${description} (default: ${f.defaultDescription})` : description).argParser(
      FLAG_PARSERS[f.kind],
    );
  }
  return new Option(f.flags, description).argParser(FLAG_PARSERS[f.kind]).default(f.default, f.defaultDescription);
}

/** `etl produce` and a subcommand for every registered stream with a synthetic source. */
export function registerProduceCommands(program: Command, say: (line: string) => void): void {
  const group = program.command('produce').description("publish synthetic events to a stream's Kafka topic");
  for (const stream of streamNames()) {
    const source = getStream(stream).synthetic;
    if (!source) continue;
    const cmd = group
      .command(stream)
      .description(`publish ${source.description}`)
      .addOption(new Option('--rows <n>', 'number of events').argParser(positiveInt).default(100_000))
      .addOption(new Option('--rate <n>', 'events per second, 0 for as fast as possible').argParser(nonNegativeInt).default(0))
      .option('--json', 'machine-readable summary (topic, produced, seconds, events_per_s)');
    const flags = source.flags.map((f) => ({ f, option: flagOption(f) }));
    for (const { option } of flags) cmd.addOption(option);
    cmd
      .addHelpText('after', `\nExamples:\n${source.examples.map((e) => `  $ ${e}`).join('\n')}`)
      .action(async (opts: Record<string, unknown> & { rows: number; rate: number; json?: boolean }) => {
        const values = Object.fromEntries(flags.map(({ f, option }) => [f.option, opts[option.attributeName()]]));
        const options = syntheticSourceOf(stream).resolve(values, { rows: opts.rows, nowMs: Date.now() });
        const clients = buildClients(loadConfig());
        try {
          const r = await produce(clients, { ...options, stream, rows: opts.rows, rate: opts.rate });
          say(
            opts.json
              ? JSON.stringify({ stream, ...r, events_per_s: Math.round(r.produced / Math.max(r.seconds, 0.001)) }, null, 2)
              : describeProduce(r),
          );
        } finally {
          await clients.close();
        }
      });
  }
}
