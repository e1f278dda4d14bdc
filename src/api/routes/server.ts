/** GET/PUT/PATCH /1.0: the server's environment and configuration. */
import type { Hono } from "hono";
import { SERVER_CONFIG_KEYS } from "../../domain/serverConfig.ts";
import { sync } from "../envelope.ts";
import { serverPatchSchema, serverPutSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import type { AuthEnv } from "../auth.ts";
import type { AppInfo } from "../app.ts";

export const API_EXTENSIONS = ["clustering", "clustering_groups", "clustering_evacuation", "instances_placement_scriptlet", "berth_placement_query"];

const CONFIG_KEYS = Object.fromEntries(Object.entries(SERVER_CONFIG_KEYS).map(([k, v]) => [k, {
  type: v.kind, default: v.default, min: v.min, max: v.max, values: v.values, description: v.description,
}]));

export function serverRoutes(app: Hono<AuthEnv>, s: Services, info: AppInfo): void {
  app.get("/1.0", (c) => sync(c, {
    api_version: "1.0",
    api_extensions: API_EXTENSIONS,
    auth: "trusted",
    auth_user_name: c.get("token").id,
    auth_user_method: `token (${c.get("token").role})`,
    config: s.config.explicit(),
    effective_config: s.config.get(),
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
  app.put("/1.0", async (c) => {
    const body = await readBody(c, serverPutSchema);
    await s.config.update(body.config, true);
    return sync(c, s.config.explicit());
  });
  app.patch("/1.0", async (c) => {
    const body = await readBody(c, serverPatchSchema);
    await s.config.update(body.config, false);
    return sync(c, s.config.explicit());
  });
}
