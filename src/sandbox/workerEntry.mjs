// Worker entry: the service runs TypeScript through tsx, and a worker thread does not inherit the
// main thread's loader hooks, so load the real worker through tsx's scoped importer.
import { tsImport } from "tsx/esm/api";

await tsImport("./worker.ts", import.meta.url);
