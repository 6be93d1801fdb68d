import { wholeValueNote } from './quarantine';
import { temporalUiUrl, type Config } from '../../lib/config';
import { fmt } from '../output';
import type { BronzeLineage, RecordLineage } from './lineage';

export function formatBronzeLineage(b: BronzeLineage, config: Config): string {
  const lines = [
    `bronze object #${b.id}: s3://${config.S3_BUCKET}/${b.object_key}`,
    b.file
      ? `  file      ${b.file.location} version ${b.file.version} lines ${b.first_offset}-${b.last_offset} (${fmt(b.record_count)} records), archived ${b.archived_at.toISOString()}`
      : `  kafka     ${b.topic}[${b.kafka_partition}] offsets ${b.first_offset}-${b.last_offset} (${fmt(b.record_count)} records), archived ${b.archived_at.toISOString()}`,
    ...(b.silver_key ? [`  silver    s3://${config.S3_BUCKET}/${b.silver_key} (NDJSON, written before the Parquet lake)`] : []),
    ...(b.lake_files.length
      ? b.lake_files.map((f) => `  lake      s3://${config.S3_BUCKET}/${f.object_key} (${fmt(f.rows)} rows)`)
      : ['  lake      (no lake file: not loaded yet, no row of its own, or behind: `etl lake show`)']),
  ];
  if (b.loads.length === 0) lines.push('  loads     (not loaded yet)');
  for (const l of b.loads) {
    lines.push(
      `  load #${l.load_id} (${l.kind}) at ${l.loaded_at.toISOString()}: ${fmt(l.inserted_count)} inserted, ${fmt(l.duplicate_count)} duplicates, ${fmt(l.conflict_count)} conflicts` +
        (l.workflow_id ? ` — ${temporalUiUrl(config, l.workflow_id)}` : ''),
    );
  }
  return lines.join('\n');
}

export function formatRecordLineage(r: RecordLineage, config: Config): string {
  const lines: string[] = [];
  if (r.loaded) {
    const { kafka, file, load, bronze, inRaw } = r.loaded;
    lines.push(`${r.key}: loaded`);
    lines.push(
      file
        ? `  file      ${file.location} version ${file.version} line ${file.line}`
        : `  kafka     ${kafka.topic}[${kafka.partition}] offset ${kafka.offset}`,
    );
    if (bronze)
      lines.push(
        ...formatBronzeLineage(bronze, config)
          .split('\n')
          .map((l) => `  ${l}`),
      );
    lines.push(
      `  load      #${load.load_id} (${load.kind}) at ${load.loaded_at.toISOString()}${load.workflow_id ? ` by ${load.workflow_id}` : ''}`,
    );
    lines.push(`  tables    flat: yes, raw: ${inRaw ? 'yes' : 'NO'}`);
  } else {
    lines.push(`${r.key}: not loaded`);
  }
  for (const q of r.quarantined) {
    lines.push(
      `  quarantine #${q.id} ${q.reason_code} at ${q.file ? `${q.file.location} version ${q.file.version} line ${q.file.line}` : `${q.kafka_topic}[${q.kafka_partition}]@${q.kafka_offset}`}${q.replayed_at ? ` (replayed ${q.replayed_at.toISOString()})` : ''}: ${q.reason}`,
    );
    const whole = wholeValueNote(q, config.S3_BUCKET);
    if (whole) lines.push(`    ${whole}`);
  }
  if (!r.loaded && r.quarantined.length === 0) lines.push('  no loaded row and no quarantined record mentions this id');
  return lines.join('\n');
}
