/** Server configuration: validated updates, an in-memory copy, and hooks that vet a change before it lands. */
import { badRequest } from "../domain/errors.ts";
import {
  defaultServerConfig, parseServerConfigValue, SERVER_CONFIG_KEYS, type ServerConfig, type ServerConfigKey,
} from "../domain/serverConfig.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";

/** What a guard is told about the change beyond the values, and how it tells the caller something. */
export interface GuardContext {
  /** The caller asked to skip checks that only advise (e.g. the scriptlet's trial placement). */
  force: boolean;
  /** A sentence the answer to the change carries (e.g. that the trial placement was skipped). */
  note(message: string): void;
}

export interface UpdateOptions {
  force?: boolean;
  onNote?: (message: string) => void;
}

/** Vets the new config before it is stored (e.g. compiles a scriptlet); throwing rejects the whole change. */
export type ConfigGuard = (next: ServerConfig, previous: ServerConfig, changed: ServerConfigKey[], context: GuardContext) => Promise<void> | void;

export class ConfigService {
  private current: ServerConfig;
  private readonly guards: ConfigGuard[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  /** Keys stored explicitly (not at their default), kept in step with the table. */
  private storedKeys: Set<string>;

  constructor(private readonly store: Store, private readonly bus: EventBus) {
    this.current = defaultServerConfig();
    this.storedKeys = new Set();
  }

  /** Reads the stored config (start-up). */
  async load(): Promise<void> {
    this.current = defaultServerConfig();
    const stored = await this.store.readConfig();
    this.storedKeys = new Set(Object.keys(stored));
    const values = this.current as unknown as Record<string, string | number>;
    for (const [key, text] of Object.entries(stored)) {
      if (!(key in SERVER_CONFIG_KEYS)) continue; // a key from a newer version: ignored, kept in the DB
      const spec = SERVER_CONFIG_KEYS[key as ServerConfigKey];
      values[key] = spec.kind === "integer" || spec.kind === "number" ? Number(text) : text;
    }
  }

  get(): ServerConfig {
    return this.current;
  }

  /** Only keys that differ from their default, as LXD shows config. */
  explicit(): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    for (const key of this.storedKeys) {
      if (key in SERVER_CONFIG_KEYS) out[key] = this.current[key as ServerConfigKey];
    }
    return out;
  }

  addGuard(guard: ConfigGuard): void {
    this.guards.push(guard);
  }

  /**
   * PATCH semantics: the given keys change, others stay. A null or "" value resets a key to its
   * default. With replace=true (PUT), keys not given are reset. Serialised so two changes never interleave.
   */
  update(changes: Record<string, unknown>, replace = false, options: UpdateOptions = {}): Promise<ServerConfig> {
    const run = this.queue.then(() => this.apply(changes, replace, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(changes: Record<string, unknown>, replace: boolean, options: UpdateOptions): Promise<ServerConfig> {
    if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
      throw badRequest("config must be an object of key: value");
    }
    const next = { ...(replace ? defaultServerConfig() : this.current) } as unknown as Record<string, string | number>;
    const writes: Record<string, string | null> = {};
    if (replace) for (const key of Object.keys(await this.store.readConfig())) writes[key] = null;
    for (const [key, raw] of Object.entries(changes)) {
      if (!(key in SERVER_CONFIG_KEYS)) parseServerConfigValue(key, raw); // throws "unknown key"
      const spec = SERVER_CONFIG_KEYS[key as ServerConfigKey];
      if (raw === null || (raw === "" && spec.kind !== "string")) {
        next[key] = spec.default;
        writes[key] = null;
        continue;
      }
      const value = parseServerConfigValue(key, raw);
      next[key] = value;
      writes[key] = value === spec.default && spec.kind !== "string" ? null : String(value);
      if (spec.kind === "string" && value === "") writes[key] = null;
    }
    const nextConfig = next as unknown as ServerConfig;
    const changed = (Object.keys(SERVER_CONFIG_KEYS) as ServerConfigKey[]).filter((k) => nextConfig[k] !== this.current[k]);
    const previous = this.current;
    const context: GuardContext = { force: options.force ?? false, note: (message) => options.onNote?.(message) };
    for (const guard of this.guards) await guard(nextConfig, previous, changed, context);
    await this.store.writeConfig(writes);
    this.storedKeys = new Set(Object.keys(await this.store.readConfig()));
    this.current = nextConfig;
    if (changed.length > 0) this.bus.lifecycle("config-updated", "/1.0", { keys: changed });
    return nextConfig;
  }
}
