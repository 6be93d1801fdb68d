// The `etl` command tree. Each command group registers itself from its own file under commands/;
// this index only says in which order `etl --help` lists them. Config is read per command (so
// --help works with a broken .env); each action returns an exit code.
import { Command } from 'commander';
import { registerDashboardCommand } from './commands/dashboard';
import { registerDemoCommand } from './commands/demo';
import { registerForecastCommands } from './commands/forecast';
import { registerIngestCommands } from './commands/ingest-files';
import { registerLakeCommands } from './commands/lake-cli';
import { registerLineageCommand } from './commands/lineage-cli';
import { registerMigrateCommand } from './commands/migrate';
import { registerObjectsCommands } from './commands/objects-cli';
import { registerPollCommand } from './commands/poll';
import { registerProduceCommands } from './commands/produce';
import { registerQuarantineCommands } from './commands/quarantine-cli';
import { registerReplayCommand } from './commands/replay';
import { registerRunCommands } from './commands/run';
import { registerScheduleCommands } from './commands/schedule-cli';
import { registerStackCommands } from './commands/stack';
import { registerSearchCommands } from './commands/search';
import { registerStatusCommand } from './commands/status-cli';
import { registerStreamCommands } from './commands/stream-cli';
import { registerWorkerCommand } from './commands/worker';

const say = (line: string) => process.stdout.write(line + '\n');

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('etl')
    .description('Workflow-orchestrated ETL on Temporal: Kafka -> S3 bronze -> validated silver -> PostgreSQL')
    .exitOverride() // set before subcommands exist, so they inherit it: usage errors exit 2, not 1
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });

  registerStackCommands(program, say, setExitCode);
  registerMigrateCommand(program, say);
  registerWorkerCommand(program);
  registerProduceCommands(program, say);
  registerRunCommands(program, say, setExitCode);
  registerQuarantineCommands(program, say);
  registerObjectsCommands(program, say, setExitCode);
  registerLineageCommand(program, say, setExitCode);
  registerScheduleCommands(program, say, setExitCode);
  registerStatusCommand(program, say);
  registerStreamCommands(program, say, setExitCode);
  registerReplayCommand(program, say, setExitCode);
  registerDemoCommand(program, say, setExitCode);
  registerDashboardCommand(program, say);
  registerForecastCommands(program, say, setExitCode);
  registerPollCommand(program, say, setExitCode);
  registerSearchCommands(program, say);
  registerIngestCommands(program, say, setExitCode);
  registerLakeCommands(program, say, setExitCode);

  return program;
}
