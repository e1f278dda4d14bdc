/** POST /1.0/scheduler/placement (dry-run placement query) and instance moves. */
import type { Context, Hono } from "hono";
import { checkName } from "../../domain/names.ts";
import { badRequest } from "../../domain/errors.ts";
import type { Relocation } from "../../members/relocation.ts";
import { outcomeError, rejectionFields } from "../../placement/schedulerPlacement.ts";
import type { PlacementQueryFn } from "../../placement/query.ts";
import type { RankedCandidate } from "../../scheduler/index.ts";
import type { AuthEnv } from "../auth.ts";
import { async, sync } from "../envelope.ts";
import { instanceMoveSchema, placementQuerySchema, scriptletTestSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import { projectOf, targetOf } from "./instances.ts";

function candidateView(c: RankedCandidate) {
  return {
    server_name: c.member,
    rank: c.rank,
    instance_count: c.instanceCount,
    pending: c.pending,
    free: { cpu: c.free.cpu, memory: c.free.memory, disk: c.free.disk, gpu: c.free.gpu, reported_memory: c.reportedFreeMemory },
    allocated: c.allocated,
    requested_memory: c.requestedMemory,
  };
}

export function schedulerRoutes(query: PlacementQueryFn, relocation: Relocation): (app: Hono<AuthEnv>, s: Services) => void {
  return (app, s) => {
    /** Both dry runs: the query, and the test of a given scriptlet source. */
    const dryRun = async (c: Context, withSource: boolean) => {
      const body = withSource ? await readBody(c, scriptletTestSchema) : await readBody(c, placementQuerySchema);
      const project = body.project ?? projectOf(c);
      checkName("project", project);
      const target = body.target || undefined;
      if (target) checkName("target", target.startsWith("@") ? target.slice(1) : target);
      // The create's own checks (one code path): the query refuses exactly what create refuses.
      const { name, type, architecture, description, config, devices, profiles } = body;
      const instance = s.instances.draft(project, { name, type, architecture, description, config, devices, profiles }, target);
      const source = "source" in body ? (body.source as string) : undefined;
      const { outcome, scriptlet } = await query(instance, body.reason ?? "new", target, body.exclude ?? [], source);
      const { rejected, insufficient } = rejectionFields(outcome.ok || outcome.code === "unschedulable" ? outcome.rejected : []);
      if (!outcome.ok) {
        // What a create of this request would answer: its error message and HTTP status.
        const error = outcomeError(outcome);
        return sync(c, { target: null, candidates: [], rejected, insufficient, scriptlet, error: error.message, error_code: error.status });
      }
      return sync(c, { target: outcome.member, candidates: outcome.candidates.map(candidateView), rejected, insufficient, scriptlet, error: null, error_code: null });
    };
    app.post("/1.0/scheduler/placement", (c) => dryRun(c, false));
    app.post("/1.0/scheduler/scriptlet/test", (c) => dryRun(c, true));

    app.post("/1.0/instances/:name", async (c) => {
      const project = projectOf(c);
      const target = targetOf(c);
      const body = await readBody(c, instanceMoveSchema);
      const name = c.req.param("name");
      if (body.name !== undefined && body.name !== name) {
        throw badRequest(`Renaming is not supported: name must be "${name}" or left out, got ${JSON.stringify(body.name)}`);
      }
      return async(c, await relocation.start(project, name, target, body.live ?? false));
    });
  };
}
