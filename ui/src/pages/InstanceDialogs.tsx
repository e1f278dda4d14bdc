/** Create (with the placement decision shown), move (with a target choice) and delete (confirmed). */
import { useState } from "preact/hooks";
import type { Instance } from "../../../src/domain/types.ts";
import { Action } from "../components/Action.tsx";
import { Dialog } from "../components/Dialog.tsx";
import { messageOf, Notice } from "../components/Notice.tsx";
import { PlacementAnswerView, type PlacementAnswer } from "../components/PlacementAnswer.tsx";
import { emptyRequest, placementBody, requestProblem, requestResources, RequestFields, type RequestValues } from "../components/RequestFields.tsx";
import { projectQuery } from "../api.ts";
import { useCluster, useSession } from "../context.ts";

interface Created {
  instance: Instance;
  answer: PlacementAnswer;
  target: string;
}

export function CreateInstanceDialog({ onClose }: { onClose: () => void }) {
  const { api, cluster } = useSession();
  const { server } = useCluster();
  const [values, setValues] = useState<RequestValues>(emptyRequest());
  const [start, setStart] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [refused, setRefused] = useState<PlacementAnswer | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const strategy = String(server?.effective_config["scheduler.strategy"] ?? "count");

  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = !values.name.trim() ? "Give the instance a name" : requestProblem(values);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    setRefused(null);
    try {
      // The dry run first: it explains the decision (same seed, so the same answer as the create
      // below as long as the cluster does not change in between).
      const answer = await api.call<PlacementAnswer>("POST", "/1.0/scheduler/placement", placementBody(values));
      if (!answer.target) {
        setRefused(answer);
        return;
      }
      const body = { name: values.name.trim(), type: values.type, ...requestResources(values), start };
      // As LXD, a create answers with an operation (202); the instance is stored by then: read it back.
      await api.call<unknown>("POST", `/1.0/instances${projectQuery(values.project, { target: values.target })}`, body);
      const instance = await api.call<Instance>("GET", `/1.0/instances/${encodeURIComponent(body.name)}${projectQuery(values.project)}`);
      setCreated({ instance, answer, target: values.target });
      void cluster.reload(["instances"]);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    const { instance, answer, target } = created;
    const same = answer.target === instance.location;
    return (
      <Dialog title={`Created ${instance.name}`} onClose={onClose} wide>
        <PlacementAnswerView answer={same ? answer : { ...answer, target: instance.location }} strategy={strategy} target={target}
          headline={`${instance.name} was placed on ${instance.location}`} />
        {!same ? <Notice kind="warn">The cluster changed between the dry run and the create: the dry run chose {answer.target}, the create placed it on {instance.location}.</Notice> : null}
        <footer class="dialog-actions"><button type="button" class="btn btn-primary" onClick={onClose}>Done</button></footer>
      </Dialog>
    );
  }
  return (
    <Dialog title="Create an instance" onClose={onClose} wide>
      <form onSubmit={submit} aria-label="Create an instance">
        <RequestFields values={values} onChange={setValues} idPrefix="create" fields={["name", "project", "type", "cpu", "memory", "disk", "pool", "gpu", "target"]} />
        <label class="check"><input type="checkbox" checked={start} onChange={(e) => setStart((e.target as HTMLInputElement).checked)} /> Start it once placed</label>
        {error ? <Notice>{error}</Notice> : null}
        {refused ? <><Notice>Not created: {refused.error ?? "no member can take it"}</Notice><PlacementAnswerView answer={refused} strategy={strategy} target={values.target} /></> : null}
        <footer class="dialog-actions">
          <button type="button" class="btn btn-plain" onClick={onClose}>Cancel</button>
          <Action type="submit" kind="primary" does="Creating an instance" busy={busy}>Create</Action>
        </footer>
      </form>
    </Dialog>
  );
}

export function MoveInstanceDialog({ instance, onClose, onStarted }: { instance: Instance; onClose: () => void; onStarted: (message: string) => void }) {
  const { api, cluster } = useSession();
  const { members, groups } = useCluster();
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const op = await api.operation("POST", `/1.0/instances/${encodeURIComponent(instance.name)}${projectQuery(instance.project, { target })}`, { migration: true });
      cluster.upsertOperation(op);
      onStarted(op.description);
      onClose();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Move ${instance.name}`} onClose={onClose}>
      <form onSubmit={submit} aria-label={`Move ${instance.name}`}>
        <p>{instance.name} is on <strong>{instance.location}</strong> ({instance.status}).</p>
        <div class="field">
          <label for="move-target">Target</label>
          <select id="move-target" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
            <option value="">the scheduler chooses (reason relocation)</option>
            <optgroup label="Member">
              {members.filter((m) => m.server_name !== instance.location).map((m) => (
                <option key={m.server_name} value={m.server_name}>{m.server_name} ({m.status})</option>
              ))}
            </optgroup>
            <optgroup label="Group">{groups.map((g) => <option key={g.name} value={`@${g.name}`}>@{g.name}</option>)}</optgroup>
          </select>
        </div>
        {error ? <Notice>{error}</Notice> : null}
        <footer class="dialog-actions">
          <button type="button" class="btn btn-plain" onClick={onClose}>Cancel</button>
          <Action type="submit" kind="primary" does="Moving an instance" busy={busy}>Move</Action>
        </footer>
      </form>
    </Dialog>
  );
}

export function DeleteInstanceDialog({ instance, onClose, onDeleted }: { instance: Instance; onClose: () => void; onDeleted: (message: string) => void }) {
  const { api, cluster } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const running = instance.status === "Running";
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.call("DELETE", `/1.0/instances/${encodeURIComponent(instance.name)}${projectQuery(instance.project, { force: running ? "true" : undefined })}`);
      onDeleted(`Deleted ${instance.name}`);
      void cluster.reload(["instances"]);
      onClose();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Delete ${instance.name}?`} onClose={onClose}>
      <p>
        {instance.name} in project {instance.project} on {instance.location} will be deleted.
        {running ? " It is running: it is stopped first (force)." : ""} This cannot be undone.
      </p>
      {error ? <Notice>{error}</Notice> : null}
      <footer class="dialog-actions">
        <button type="button" class="btn btn-plain" onClick={onClose}>Cancel</button>
        <Action kind="danger" does="Deleting an instance" onClick={remove} busy={busy}>Delete {instance.name}</Action>
      </footer>
    </Dialog>
  );
}
