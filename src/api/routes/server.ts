/** GET/PUT/PATCH /1.0: the server's environment and configuration. */
import type { Hono } from "hono";
import { SERVER_CONFIG_KEYS } from "../../domain/serverConfig.ts";
import { sync } from "../envelope.ts";
import { serverPatchSchema, serverPutSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import { LOCAL_SOCKET_USER, type AuthEnv } from "../auth.ts";
import type { AppInfo } from "../app.ts";

/**
 * The LXD API extensions whose behaviour Berth has (LXD clients check these before each command;
 * docs/lxc.md says what each means here), then Berth's own.
 */
export const API_EXTENSIONS = [
  "patch", "storage", "storage_driver_ceph", "event_lifecycle", "operation_description", "clustering", "container_only_migration",
  "container_full", "projects", "instances", "clustering_roles", "clustering_architecture", "api_filtering",
  "clustering_edit_roles", "clustering_failure_domains", "clustering_description", "clustering_evacuation",
  "clustering_config", "instance_all_projects", "clustering_groups", "instance_get_full", "event_project",
  "event_location", "clustering_evacuation_live",
  "instances_placement_scriptlet", "berth_placement_query",
];

const CONFIG_KEYS = Object.fromEntries(Object.entries(SERVER_CONFIG_KEYS).map(([k, v]) => [k, {
  type: v.kind, default: v.default, min: v.min, max: v.max, values: v.values, description: v.description,
}]));

/** Config values as LXD shows them: every value a string (`"30"`, `"2.5"`), as `lxc config set` sends them. */
function asStrings(config: object): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, value === null || value === undefined ? "" : String(value)]));
}

export function serverRoutes(app: Hono<AuthEnv>, s: Services, info: AppInfo): void {
  app.get("/1.0", (c) => sync(c, {
    api_version: "1.0",
    api_extensions: API_EXTENSIONS,
    auth: "trusted",
    auth_user_name: c.get("token").id,
    auth_user_method: c.get("token") === LOCAL_SOCKET_USER ? "unix" : `token (${c.get("token").role})`,
    // What the caller may do (admin, viewer, agent): the dashboard disables what a viewer cannot do.
    auth_role: c.get("token").role,
    config: asStrings(s.config.explicit()),
    effective_config: asStrings(s.config.get()),
    config_keys: CONFIG_KEYS,
    environment: {
      server: "berth",
      server_name: info.serverName,
      server_version: info.version,
      server_clustered: true,
      addresses: info.endpoints().addresses,
      // As LXD: the PEM, and the SHA-256 of its DER that clients and join tokens pin.
      certificate: info.certificate.pem,
      certificate_fingerprint: info.certificate.fingerprint,
    },
  }));
  // LXD's api.Cluster: Berth is always a cluster, of the members registered with it.
  app.get("/1.0/cluster", (c) => sync(c, { server_name: info.serverName, enabled: true, member_config: [] }));
  app.put("/1.0", async (c) => {
    const body = await readBody(c, serverPutSchema);
    await s.config.update(body.config, true);
    return sync(c, asStrings(s.config.explicit()));
  });
  app.patch("/1.0", async (c) => {
    const body = await readBody(c, serverPatchSchema);
    await s.config.update(body.config, false);
    return sync(c, asStrings(s.config.explicit()));
  });
}
