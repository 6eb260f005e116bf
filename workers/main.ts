// `npm run worker`: the worker process. (Being written alongside workers/runtime.server.ts.)
import { startWorkers } from './runtime.server';

await startWorkers();
