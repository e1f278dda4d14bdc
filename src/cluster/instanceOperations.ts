/** Operation runners for instances: state changes (start/stop/restart). */
import type { OperationManager } from "../operations/manager.ts";
import type { InstanceService } from "./instanceService.ts";

interface StateInput {
  project: string;
  name: string;
  action: "start" | "stop" | "restart";
  force: boolean;
  timeout?: number;
}

export function registerInstanceOperations(operations: OperationManager, instances: InstanceService): void {
  operations.register("instance-state", async (_ctx, input) => {
    const { project, name, action, force, timeout } = input as StateInput;
    const instance = await instances.changeState(project, name, action, force, timeout);
    return { status: instance.status, location: instance.location };
  });
}
