/** The none driver: bookkeeping only. Nothing runs; an instance is observed as it was last ordered, at once. */
import { join } from "node:path";
import { instanceDir, readJson, writeJsonAtomic } from "../files.ts";
import type { DesiredInstance } from "../protocol.ts";
import type { Driver, DriverContext, Observation } from "./driver.ts";

interface NoneState {
  status: "Running" | "Stopped";
  startedAt?: number;
}

export class NoneDriver implements Driver {
  readonly name = "none";
  readonly observeIntervalMs = 5_000;

  constructor(private readonly ctx: DriverContext) {}

  private stateFile(i: DesiredInstance): string {
    return join(instanceDir(this.ctx.data, i), "state.json");
  }

  async start(instance: DesiredInstance): Promise<void> {
    const state = await readJson<NoneState>(this.stateFile(instance));
    if (state?.status === "Running") return;
    await writeJsonAtomic(this.stateFile(instance), { status: "Running", startedAt: Date.now() } satisfies NoneState);
  }

  async stop(instance: DesiredInstance): Promise<void> {
    await writeJsonAtomic(this.stateFile(instance), { status: "Stopped" } satisfies NoneState);
  }

  async status(instance: DesiredInstance): Promise<Observation> {
    const state = await readJson<NoneState>(this.stateFile(instance));
    return state?.status === "Running" ? { status: "Running", startedAt: state.startedAt } : { status: "Stopped" };
  }

  async log(): Promise<string> {
    return "";
  }
}
