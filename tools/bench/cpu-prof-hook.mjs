// Preloaded into the worker by `bench --cpu-prof <dir>` (NODE_OPTIONS=--import): node refuses
// --cpu-prof in NODE_OPTIONS, and bin/etl is a wrapper, so the profile is taken from inside.
// The in-process inspector session answers synchronously, which lets the 'exit' handler save it.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(path.join(dir, `worker-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
