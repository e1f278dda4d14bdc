/** GET/PUT/PATCH /1.0: the server's environment and configuration. */
import type { Context, Hono } from "hono";
import type { TokenInfo } from "../../domain/types.ts";
import { SERVER_CONFIG_KEYS } from "../../domain/serverConfig.ts";
import { sync } from "../envelope.ts";
import { serverPatchSchema, serverPutSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { queryBool, readBody } from "../validation.ts";

/** A response header with what a change has to tell (URI-encoded text): e.g. the scriptlet's trial placement. */
export const NOTICE_HEADER = "Berth-Notice";
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
  "event_location", "clustering_evacuation_live", "certificate_token",
  "instances_placement_scriptlet", "berth_placement_query",
];

const CONFIG_KEYS = Object.fromEntries(Object.entries(SERVER_CONFIG_KEYS).map(([k, v]) => [k, {
  type: v.kind, default: v.default, min: v.min, max: v.max, values: v.values, description: v.description,
}]));

/** Config values as LXD shows them: every value a string (`"30"`, `"2.5"`), as `lxc config set` sends them. */
function asStrings(config: object): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, value === null || value === undefined ? "" : String(value)]));
}

/** How the caller authenticated, as LXD's auth_user_method (plus the token's role for Berth's tokens). */
function authMethod(c: Context<AuthEnv>): string {
  if (c.get("token") === LOCAL_SOCKET_USER) return "unix";
  if (c.get("certificate")) return "tls";
  return `token (${c.get("token").role})`;
}

export function serverRoutes(app: Hono<AuthEnv>, s: Services, info: AppInfo): void {
  app.get("/1.0", (c) => {
    // An untrusted client over HTTPS (no token, no trusted certificate) gets LXD's api.ServerUntrusted.
    if (!(c.get("token") as TokenInfo | undefined)) {
      return sync(c, {
        api_extensions: API_EXTENSIONS, api_status: "stable", api_version: "1.0", auth: "untrusted", public: false, auth_methods: ["tls"],
      });
    }
    return sync(c, {
      api_version: "1.0",
      api_extensions: API_EXTENSIONS,
      api_status: "stable",
      auth: "trusted",
      auth_methods: ["tls"],
      auth_user_name: c.get("token").id,
      auth_user_method: authMethod(c),
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
        // Several replicas on one database: this one's name and role, and every replica seen lately.
        replica: s.replicas?.self ?? info.serverName,
        replica_role: s.replicas?.role() ?? "standalone",
        replicas: s.replicas?.list() ?? [],
      },
    });
  });
  // LXD's api.Cluster: Berth is always a cluster, of the members registered with it.
  app.get("/1.0/cluster", (c) => sync(c, { server_name: info.serverName, enabled: true, member_config: [] }));
  // ?force=true skips what only advises: the trial placement of a new scriptlet (docs/scheduler.md).
  // What the change has to say (the trial's result) comes back in the Berth-Notice header.
  const update = (replace: boolean) => async (c: Context<AuthEnv>) => {
    const body = await readBody(c, replace ? serverPutSchema : serverPatchSchema);
    const notes: string[] = [];
    await s.config.update(body.config, replace, { force: queryBool(c, "force"), onNote: (note) => notes.push(note) });
    if (notes.length > 0) c.header(NOTICE_HEADER, encodeURIComponent(notes.join(" ")));
    return sync(c, asStrings(s.config.explicit()));
  };
  app.put("/1.0", update(true));
  app.patch("/1.0", update(false));
}
