/** Projects: namespaces for instances; restricted.cluster.groups limits where their instances may go. */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import type { Project } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { insertIfAbsent, type Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";
import type { GroupCache } from "./groupCache.ts";
import { mergeConfig, withoutUnset } from "./memberService.ts";

const PROJECT_KEYS = ["restricted", "restricted.cluster.groups"];

/** The groups a project's instances are limited to, or null when unrestricted. */
export function restrictedGroups(project: Project): string[] | null {
  const raw = project.config["restricted.cluster.groups"];
  if (!raw) return null;
  return raw.split(",").map((g) => g.trim()).filter((g) => g !== "");
}

export class ProjectService {
  /** Projects are few and read on every create and placement: kept in memory, refreshed on every write. */
  private cache = new Map<string, Project>();

  constructor(
    private readonly store: Store,
    private readonly groups: GroupCache,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
  ) {}

  /** Reads the stored projects (start-up, and after every write). */
  async load(): Promise<void> {
    this.cache = new Map((await this.store.listProjects()).map((p) => [p.name, p]));
  }

  list(): Project[] {
    return [...this.cache.values()];
  }

  exists(name: string): boolean {
    return this.cache.has(name);
  }

  get(name: string): Project {
    const project = this.cache.get(name);
    if (!project) throw notFound(`Project "${name}" not found`);
    return project;
  }

  async ensureDefault(): Promise<void> {
    // Replicas may start together: the one that inserts second finds it made.
    if (!(await this.store.getProject("default"))) await insertIfAbsent(() => this.store.insertProject({ name: "default", description: "Default project", config: {} }));
    await this.load();
  }

  async create(input: { name: string; description?: string; config?: Record<string, string> }): Promise<Project> {
    const name = checkName("name", input.name);
    if (await this.store.getProject(name)) throw conflict(`Project "${name}" already exists`);
    const project: Project = { name, description: input.description ?? "", config: this.checkConfig(withoutUnset(input.config ?? {})) };
    await this.store.insertProject(project);
    await this.load();
    this.changes.publish({ kind: "project", project });
    this.bus.lifecycle("project-created", `/1.0/projects/${name}`);
    return project;
  }

  async update(name: string, input: { description?: string; config?: Record<string, string> }, replace: boolean): Promise<Project> {
    const current = this.get(name);
    const config = this.checkConfig(replace ? withoutUnset(input.config ?? {}) : mergeConfig(current.config, input.config ?? {}));
    await this.store.updateProject(name, input.description ?? (replace ? "" : current.description), config);
    await this.load();
    const project = this.get(name);
    this.changes.publish({ kind: "project", project });
    this.bus.lifecycle("project-updated", `/1.0/projects/${name}`);
    return project;
  }

  async remove(name: string): Promise<void> {
    if (name === "default") throw badRequest(`The "default" project cannot be deleted`);
    this.get(name);
    const count = await this.store.countInstances({ project: name });
    if (count > 0) throw conflict(`Project "${name}" still has ${count} instance(s); delete them first`);
    await this.store.deleteProject(name);
    await this.load();
    this.changes.publish({ kind: "project-removed", name });
    this.bus.lifecycle("project-deleted", `/1.0/projects/${name}`);
  }

  private checkConfig(config: Record<string, string>): Record<string, string> {
    for (const [key, value] of Object.entries(config)) {
      if (!PROJECT_KEYS.includes(key) && !key.startsWith("user.")) {
        throw badRequest(`Unknown project configuration key config["${key}"] (known: ${PROJECT_KEYS.join(", ")}, user.*)`);
      }
      if (key === "restricted.cluster.groups") {
        for (const group of value.split(",").map((g) => g.trim()).filter(Boolean)) {
          checkName(`config["restricted.cluster.groups"] entry`, group);
          if (!this.groups.exists(group)) throw badRequest(`config["restricted.cluster.groups"]: cluster group "${group}" does not exist`);
        }
      }
    }
    return config;
  }
}
