/** Every instance, filterable by project, member, status and name; create, start/stop, move, delete. */
import { useState } from "preact/hooks";
import { INSTANCE_STATUSES } from "../../../src/domain/types.ts";
import { Action } from "../components/Action.tsx";
import { Notice } from "../components/Notice.tsx";
import { useCluster } from "../context.ts";
import { plural } from "../format.ts";
import { CreateInstanceDialog } from "./InstanceDialogs.tsx";
import { InstanceTable } from "./InstanceTable.tsx";

export function InstancesPage() {
  const { instances, projects, members } = useCluster();
  const [name, setName] = useState("");
  const [project, setProject] = useState("");
  const [member, setMember] = useState("");
  const [status, setStatus] = useState("");
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const needle = name.trim().toLowerCase();
  const shown = instances.filter((i) =>
    (!needle || i.name.toLowerCase().includes(needle)) && (!project || i.project === project) && (!member || i.location === member) && (!status || i.status === status));
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return (
    <div class="page">
      <header class="page-head">
        <h1>Instances</h1>
        <p class="muted summary">{plural(shown.length, "instance")} shown of {instances.length}</p>
        <div class="page-actions"><Action kind="primary" does="Creating an instance" onClick={() => setCreating(true)}>Create instance…</Action></div>
      </header>
      <form class="filters" role="search" aria-label="Filter instances" onSubmit={(e) => e.preventDefault()}>
        <div class="field"><label for="filter-name">Name</label><input id="filter-name" type="search" value={name} onInput={value(setName)} placeholder="contains…" /></div>
        <div class="field"><label for="filter-project">Project</label>
          <select id="filter-project" value={project} onChange={value(setProject)}>
            <option value="">all projects</option>
            {projects.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
          </select>
        </div>
        <div class="field"><label for="filter-member">Member</label>
          <select id="filter-member" value={member} onChange={value(setMember)}>
            <option value="">all members</option>
            {members.map((m) => <option key={m.server_name} value={m.server_name}>{m.server_name}</option>)}
          </select>
        </div>
        <div class="field"><label for="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={value(setStatus)}>
            <option value="">any status</option>
            {INSTANCE_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
      </form>
      {message ? <Notice kind={message.error ? "error" : "info"}>{message.text}</Notice> : null}
      <InstanceTable instances={shown} label="Instances" onMessage={(text, error = false) => setMessage({ text, error })} />
      {creating ? <CreateInstanceDialog onClose={() => setCreating(false)} /> : null}
    </div>
  );
}
