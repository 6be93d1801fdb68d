// Imported first by the entry points. The AWS SDK warns on every start that its 2027 releases will
// need Node 22; that is for maintainers (see README, "Known issues"), not for every CLI user.
const IGNORED = new Set(['NodeVersionSupportWarning']);

process.removeAllListeners('warning');
process.on('warning', (warning) => {
  const tag = /^(\w+Warning):/.exec(warning.message)?.[1];
  if (IGNORED.has(warning.name) || (tag && IGNORED.has(tag))) return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
