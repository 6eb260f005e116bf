// Preload for the benchmarks' child processes: a V8 CPU profile of the whole process, written to
// $LAUREL_CPU_PROFILE_DIR/<pid>.cpuprofile when it exits (Chrome DevTools or speedscope open it).
// `node --cpu-prof` does the same but is not allowed in NODE_OPTIONS, and the children are started
// by helpers that take an environment, not node flags:
//
//   NODE_OPTIONS="--import ./scripts/cpu-profile.mjs" LAUREL_CPU_PROFILE_DIR=bench-data/p node …
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.LAUREL_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs, as --cpu-prof
  session.post('Profiler.start');
  // A same-thread inspector session answers synchronously, so this works in an exit handler.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
