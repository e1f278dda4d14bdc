// Worker entry when the service runs from source (vitest, tsx): a worker thread does not inherit the
// main thread's loader hooks, so load the real worker through tsx's scoped importer. The compiled
// service (dist/) starts worker.js directly and never loads this file (workerHandle.ts).
import { tsImport } from "tsx/esm/api";

await tsImport("./worker.ts", import.meta.url);
