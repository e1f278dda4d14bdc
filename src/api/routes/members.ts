/** /1.0/cluster/members[/{name}[/state|/heartbeat|/resources]] */
import type { Context, Hono } from "hono";
import { badRequest } from "../../domain/errors.ts";
import { completeResources } from "../../domain/resources.ts";
import type { MemberRecord, MemberResources, MemberStateReport } from "../../domain/types.ts";
import { async, sync } from "../envelope.ts";
import type { Maintenance } from "../../members/maintenance.ts";
import { notFound } from "../../domain/errors.ts";
import { agentAnswerSchema, heartbeatSchema, memberCreateSchema, memberStateActionSchema, memberUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { queryBool, queryInt, readBody } from "../validation.ts";
import { listing } from "../views.ts";
import type { AuthEnv } from "../auth.ts";

export function memberRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/cluster/members", async (c) => {
    return sync(c, await listing(c, await s.members.list(), (m) => `/1.0/cluster/members/${m.server_name}`));
  });

  app.post("/1.0/cluster/members", async (c) => {
    const { join, expiry, ...body } = await readBody(c, memberCreateSchema);
    if (join) {
      if (body.resources) {
        throw badRequest("resources: a member that joins with a join token reports its own resources; declare resources only for a member without an agent (no join)");
      }
      s.join.checkCanIssue(expiry); // before the member is written: no member without its token
    } else if (expiry !== undefined) {
      throw badRequest(`expiry: only a join token expires; send "join": true for one`);
    }
    const architecture = body.architecture ?? body.resources?.cpu?.architecture ?? "x86_64";
    const member = await s.members.create({
      ...body,
      architecture,
      resources: body.resources ? completeResources(body.resources, architecture) : null,
    });
    if (!join) return sync(c, member, 201);
    const { token, info } = await s.join.issue(member.server_name, expiry);
    return sync(c, { ...member, join_token: token, join_token_id: info.id, join_token_expires_at: info.expires_at }, 201);
  });

  app.get("/1.0/cluster/members/:name", async (c) => sync(c, await s.members.get(c.req.param("name"))));

  const update = (replace: boolean) => async (c: Context) => {
    const body = await readBody(c, memberUpdateSchema);
    const { server_name: _n, status: _s, message: _m, last_heartbeat: _h, resources: _r, agent: _a, database: _d, ...input } = body;
    return sync(c, await s.members.update(c.req.param("name")!, input, replace));
  };
  app.put("/1.0/cluster/members/:name", update(true));
  app.patch("/1.0/cluster/members/:name", update(false));

  // ?force=1 (lxc cluster remove --force) is accepted: Berth never has to reach a member to remove
  // it, so an offline or never-seen member goes either way; one that hosts instances or has
  // placements in flight towards it never does (409).
  app.delete("/1.0/cluster/members/:name", async (c) => {
    queryBool(c, "force");
    await s.members.remove(c.req.param("name"));
    return sync(c, {});
  });

  app.get("/1.0/cluster/members/:name/state", async (c) => sync(c, await s.members.state(c.req.param("name"))));

  app.get("/1.0/cluster/members/:name/resources", async (c) => {
    const member = await s.members.get(c.req.param("name"));
    return sync(c, member.resources ?? completeResources({}, member.architecture));
  });

  app.post("/1.0/cluster/members/:name/heartbeat", async (c) => {
    const name = c.req.param("name");
    const body = await readBody(c, heartbeatSchema);
    const reported = body.resources;
    const resources = reported ? (record: MemberRecord) => completeResources(reported, record.architecture) : null;
    const member = await s.members.heartbeat(name, resources, (body.state as MemberStateReport | undefined) ?? null);
    s.agents.report(name, body.agent, body.instances, reported?.storage?.pools);
    const threshold = s.config.get()["cluster.offline_threshold"];
    return sync(c, {
      status: member.status, message: member.message, offline_threshold: threshold, heartbeat_interval: Math.max(1, Math.floor(threshold / 4)),
      ...s.healing.acknowledge(name, body.healing_threshold),
    });
  });

  // What the member's agent should run, long-polled: ?since=REVISION&wait=SECONDS (at most 60).
  app.get("/1.0/cluster/members/:name/desired", async (c) => {
    const name = c.req.param("name");
    await s.members.record(name); // 404 when unknown
    const since = c.req.query("since");
    const revision = since === undefined || since === "" ? undefined : queryInt(c, "since", 0, 0, Number.MAX_SAFE_INTEGER);
    return sync(c, await s.desired.read(name, revision, queryInt(c, "wait", 0, 0, 60)));
  });

  app.post("/1.0/cluster/members/:name/answers/:id", async (c) => {
    const body = await readBody(c, agentAnswerSchema);
    if (!s.desired.answer(c.req.param("name"), c.req.param("id"), body)) {
      throw notFound(`No request "${c.req.param("id")}" is waiting for an answer from cluster member "${c.req.param("name")}"`);
    }
    return sync(c, {});
  });
}

/** POST /1.0/cluster/members/{name}/state: evacuate or restore (DESIGN §5). */
export function memberStateRoutes(maintenance: Maintenance): (app: Hono<AuthEnv>, s: Services) => void {
  return (app) => {
    app.post("/1.0/cluster/members/:name/state", async (c) => {
      const body = await readBody(c, memberStateActionSchema);
      const answer = await maintenance.request(c.req.param("name"), body);
      return answer.dryRun ? sync(c, answer.plan) : async(c, answer.operation);
    });
  };
}
