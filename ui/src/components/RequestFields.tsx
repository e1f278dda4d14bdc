/**
 * The fields of an instance request (what the scheduler reads: cpu, memory, root disk, gpus), used
 * by the create dialog, the placement explorer and the scriptlet tester, and the JSON body they make.
 */
import { parseSize } from "../../../src/domain/units.ts";
import type { PlacementReason } from "../../../src/domain/types.ts";
import { useCluster } from "../context.ts";

export interface RequestValues {
  name: string;
  project: string;
  type: "container" | "virtual-machine";
  cpu: string;
  memory: string;
  disk: string;
  pool: string;
  gpu: string;
  target: string;
  reason: PlacementReason;
}

export const emptyRequest = (name = ""): RequestValues => ({
  name, project: "default", type: "container", cpu: "", memory: "", disk: "", pool: "", gpu: "", target: "", reason: "new",
});

/** The problem with the values, before anything is sent (null: none). */
export function requestProblem(v: RequestValues): string | null {
  if (v.cpu && !(Number(v.cpu) > 0)) return `CPU must be a number of cores above 0, e.g. 2 (got "${v.cpu}")`;
  if (v.memory && parseSize(v.memory) === null) return `Memory must be a size such as 512MiB or 2GiB (got "${v.memory}")`;
  if (v.disk && parseSize(v.disk) === null) return `Root disk must be a size such as 10GiB (got "${v.disk}")`;
  if (v.disk && !v.pool) return "A root disk needs a storage pool";
  if (v.gpu && !/^\d+$/.test(v.gpu)) return `GPUs must be a whole number (got "${v.gpu}")`;
  return null;
}

/** config and devices as the API takes them (limits.cpu, limits.memory, limits.gpu, a root disk device). */
export function requestResources(v: RequestValues): { config: Record<string, string>; devices: Record<string, Record<string, string>> } {
  const config: Record<string, string> = {};
  if (v.cpu) config["limits.cpu"] = v.cpu.trim();
  if (v.memory) config["limits.memory"] = v.memory.trim();
  if (v.gpu && v.gpu !== "0") config["limits.gpu"] = v.gpu.trim();
  const devices: Record<string, Record<string, string>> = {};
  if (v.pool) devices.root = { type: "disk", path: "/", pool: v.pool, ...(v.disk ? { size: v.disk.trim() } : {}) };
  return { config, devices };
}

/** The body of a placement query or scriptlet test. */
export function placementBody(v: RequestValues): Record<string, unknown> {
  return {
    ...(v.name ? { name: v.name.trim() } : {}),
    project: v.project,
    type: v.type,
    ...requestResources(v),
    reason: v.reason,
    ...(v.target ? { target: v.target } : {}),
  };
}

type Field = keyof RequestValues;

export function RequestFields({ values, onChange, fields, idPrefix }: {
  values: RequestValues;
  onChange: (v: RequestValues) => void;
  fields: Field[];
  idPrefix: string;
}) {
  const { projects, members, groups, pools } = useCluster();
  const set = (field: Field) => (e: Event) => onChange({ ...values, [field]: (e.target as HTMLInputElement).value });
  const has = (f: Field) => fields.includes(f);
  const id = (f: Field) => `${idPrefix}-${f}`;
  return (
    <div class="fields">
      {has("name") ? <div class="field"><label for={id("name")}>Name</label><input id={id("name")} value={values.name} onInput={set("name")} placeholder="web1" autocomplete="off" spellcheck={false} /></div> : null}
      {has("project") ? (
        <div class="field"><label for={id("project")}>Project</label>
          <select id={id("project")} value={values.project} onChange={set("project")}>
            {projects.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
          </select>
        </div>
      ) : null}
      {has("type") ? (
        <div class="field"><label for={id("type")}>Type</label>
          <select id={id("type")} value={values.type} onChange={set("type")}>
            <option value="container">container</option><option value="virtual-machine">virtual-machine</option>
          </select>
        </div>
      ) : null}
      {has("cpu") ? <div class="field field-narrow"><label for={id("cpu")}>CPU (cores)</label><input id={id("cpu")} value={values.cpu} onInput={set("cpu")} inputMode="decimal" placeholder="1" /></div> : null}
      {has("memory") ? <div class="field field-narrow"><label for={id("memory")}>Memory</label><input id={id("memory")} value={values.memory} onInput={set("memory")} placeholder="1GiB" /></div> : null}
      {has("disk") ? <div class="field field-narrow"><label for={id("disk")}>Root disk</label><input id={id("disk")} value={values.disk} onInput={set("disk")} placeholder="10GiB" /></div> : null}
      {has("pool") ? (
        <div class="field field-narrow"><label for={id("pool")}>Disk pool</label>
          <select id={id("pool")} value={values.pool} onChange={set("pool")} disabled={pools.length === 0} title={pools.length === 0 ? "No storage pools: create one with berth storage create" : undefined}>
            <option value="">none</option>
            {pools.map((p) => <option key={p.name} value={p.name}>{p.name} ({p.driver})</option>)}
          </select>
        </div>
      ) : null}
      {has("gpu") ? <div class="field field-narrow"><label for={id("gpu")}>GPUs</label><input id={id("gpu")} value={values.gpu} onInput={set("gpu")} inputMode="numeric" placeholder="0" /></div> : null}
      {has("target") ? (
        <div class="field"><label for={id("target")}>Target</label>
          <select id={id("target")} value={values.target} onChange={set("target")}>
            <option value="">any member (the scheduler chooses)</option>
            <optgroup label="Member">{members.map((m) => <option key={m.server_name} value={m.server_name}>{m.server_name} ({m.status})</option>)}</optgroup>
            <optgroup label="Group">{groups.map((g) => <option key={g.name} value={`@${g.name}`}>@{g.name}</option>)}</optgroup>
          </select>
        </div>
      ) : null}
      {has("reason") ? (
        <div class="field"><label for={id("reason")}>Reason</label>
          <select id={id("reason")} value={values.reason} onChange={set("reason")}>
            <option value="new">new (create)</option><option value="evacuation">evacuation</option><option value="relocation">relocation (move)</option>
          </select>
        </div>
      ) : null}
    </div>
  );
}
