/**
 * Operation runners for instances, as LXD answers these requests with an async operation: create
 * (the start that follows when asked), update (PUT), delete, and state changes (start/stop/restart).
 * Every refusal is the request's own, before the operation exists (routes call the service's
 * checks first); a runner is idempotent, so a resume after a restart is the same code path.
 */
import type { OperationManager } from "../operations/manager.ts";
import type { InstanceService } from "./instanceService.ts";

interface InstanceRef {
  project: string;
  name: string;
}

interface StateInput extends InstanceRef {
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

  // The instance was placed and stored before the operation began (its metadata says where);
  // what is left is to start it when asked.
  operations.register("instance-create", async (_ctx, input) => {
    const { project, name, start } = input as InstanceRef & { start: boolean };
    const instance = start ? await instances.startCreated(project, name) : await instances.get(project, name);
    return { location: instance.location, status: instance.status };
  });

  // A PUT is checked and stored before the answer (a resize reserves room on the member in the
  // same step); its operation reports the result.
  operations.register("instance-update", async (_ctx, input) => {
    const { project, name } = input as InstanceRef;
    const instance = await instances.get(project, name);
    return { location: instance.location, status: instance.status };
  });

  operations.register("instance-delete", async (_ctx, input) => {
    const { project, name, force } = input as InstanceRef & { force: boolean };
    await instances.remove(project, name, force);
  });
}
