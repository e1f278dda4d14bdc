/** Instances as a table with their actions (start/stop, move, delete), on the instances page and a member's page. */
import { useState } from "preact/hooks";
import type { Instance, Operation } from "../../../src/domain/types.ts";
import { resourceRequest } from "../../../src/domain/instanceConfig.ts";
import { Action } from "../components/Action.tsx";
import { messageOf } from "../components/Notice.tsx";
import { Status } from "../components/Status.tsx";
import { isFinished } from "../cluster.ts";
import { projectQuery } from "../api.ts";
import { useCluster, useSession } from "../context.ts";
import { cores, size, when } from "../format.ts";
import { Link } from "../router.tsx";
import { DeleteInstanceDialog, MoveInstanceDialog } from "./InstanceDialogs.tsx";

/** Rows drawn at most: a table of 100,000 rows helps nobody, the filters find the rest. */
const ROW_LIMIT = 500;

const instanceUrl = (i: Instance) => `/1.0/instances/${i.name}${i.project === "default" ? "" : `?project=${i.project}`}`;

/** Why an instance is in Error, as its member's agent reported it (`observed.reason`). */
function errorReason(i: Instance): string | undefined {
  const observed = (i as Instance & { observed?: { reason?: string } }).observed;
  return i.status === "Error" ? observed?.reason : undefined;
}

/** The running operation that is changing this instance, if any. */
function runningFor(i: Instance, operations: Operation[]): Operation | undefined {
  const url = instanceUrl(i);
  return operations.find((op) => !isFinished(op) && (op.resources?.instances ?? []).includes(url));
}

export function InstanceTable({ instances, label, onMessage }: { instances: Instance[]; label: string; onMessage: (message: string, error?: boolean) => void }) {
  const { operations } = useCluster();
  const [dialog, setDialog] = useState<{ kind: "move" | "delete"; instance: Instance } | null>(null);
  return (
    <>
      <table class="table" aria-label={label}>
        <thead>
          <tr><th>Name</th><th>Project</th><th>Status</th><th>Member</th><th>Type</th><th class="num">CPU</th><th class="num">Memory</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr>
        </thead>
        <tbody>
          {instances.slice(0, ROW_LIMIT).map((i) => {
            const request = resourceRequest(i);
            const op = runningFor(i, operations);
            return (
              <tr key={`${i.project}/${i.name}`} data-instance={i.name}>
                <td class="strong">{i.name}{i.description ? <div class="muted small">{i.description}</div> : null}</td>
                <td>{i.project}</td>
                <td><Status status={i.status} message={op ? op.description : errorReason(i)} /></td>
                <td>{i.location ? <Link to={`/members/${encodeURIComponent(i.location)}`}>{i.location}</Link> : <span class="muted">none</span>}</td>
                <td>{i.type}</td>
                <td class="num">{request.cpu ? cores(request.cpu) : "—"}</td>
                <td class="num">{request.memory ? size(request.memory) : "—"}</td>
                <td class="small">{when(i.created_at)}</td>
                <td><InstanceActions instance={i} busy={op !== undefined} onMessage={onMessage} onDialog={(kind) => setDialog({ kind, instance: i })} /></td>
              </tr>
            );
          })}
          {instances.length === 0 ? <tr><td colSpan={9} class="muted">No instances.</td></tr> : null}
          {instances.length > ROW_LIMIT ? <tr><td colSpan={9} class="muted">Showing {ROW_LIMIT} of {instances.length}: narrow the filters to see the others.</td></tr> : null}
        </tbody>
      </table>
      {dialog?.kind === "move" ? <MoveInstanceDialog instance={dialog.instance} onClose={() => setDialog(null)} onStarted={(m) => onMessage(m)} /> : null}
      {dialog?.kind === "delete" ? <DeleteInstanceDialog instance={dialog.instance} onClose={() => setDialog(null)} onDeleted={(m) => onMessage(m)} /> : null}
    </>
  );
}

function InstanceActions({ instance, busy, onMessage, onDialog }: {
  instance: Instance;
  busy: boolean;
  onMessage: (message: string, error?: boolean) => void;
  onDialog: (kind: "move" | "delete") => void;
}) {
  const { api, cluster } = useSession();
  const running = instance.status === "Running";
  const why = busy ? `${instance.name} is being changed; wait for it to finish` : null;
  const power = async (action: "start" | "stop") => {
    try {
      const op = await api.operation("PUT", `/1.0/instances/${encodeURIComponent(instance.name)}/state${projectQuery(instance.project)}`, { action });
      cluster.upsertOperation(op);
      onMessage(`${op.description} ${instance.name}`);
    } catch (err) {
      onMessage(messageOf(err), true);
    }
  };
  return (
    <div class="row-actions">
      {running
        ? <Action small does="Stopping an instance" unavailable={why} onClick={() => power("stop")} label={`Stop ${instance.name}`}>Stop</Action>
        : <Action small does="Starting an instance" unavailable={why} onClick={() => power("start")} label={`Start ${instance.name}`}>Start</Action>}
      <Action small does="Moving an instance" unavailable={why} onClick={() => onDialog("move")} label={`Move ${instance.name}`}>Move…</Action>
      <Action small kind="danger" does="Deleting an instance" unavailable={why} onClick={() => onDialog("delete")} label={`Delete ${instance.name}`}>Delete…</Action>
    </div>
  );
}
