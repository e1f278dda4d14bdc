/**
 * Evacuate or restore a member: the dry-run plan first (as a table, for the chosen mode), then
 * the confirmation that starts the operation. Its progress is shown on the members page and the
 * member's page, live from the events.
 */
import { useEffect, useState } from "preact/hooks";
import { EVACUATE_MODES } from "../../../src/domain/instanceConfig.ts";
import { Action } from "../components/Action.tsx";
import { Dialog } from "../components/Dialog.tsx";
import { messageOf, Notice } from "../components/Notice.tsx";
import { Status } from "../components/Status.tsx";
import { useSession } from "../context.ts";
import { plural } from "../format.ts";

export type MaintenanceAction = "evacuate" | "restore";

interface EvacuationPlan {
  action: "evacuate";
  member: string;
  instances: { project: string; name: string; status: string; action: string; target: string | null; why: string }[];
}
interface RestorePlan {
  action: "restore";
  member: string;
  start: { project: string; name: string; from: string }[];
  move_back: { project: string; name: string; from: string }[];
}
type Plan = EvacuationPlan | RestorePlan;

const MODE_HELP: Record<string, string> = {
  "": "each instance's cluster.evacuate (auto: migrate, or stop when it has local devices)",
  auto: "migrate, or stop instances with local devices",
  migrate: "stop, move to another member, start there",
  "live-migrate": "move while running (migrate where the executor cannot)",
  stop: "stop in place",
  "force-stop": "force-stop in place",
};

export function MaintenanceDialog({ member, action, onClose }: { member: string; action: MaintenanceAction; onClose: () => void }) {
  const { api, cluster } = useSession();
  const [mode, setMode] = useState("");
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);

  useEffect(() => {
    let current = true;
    setPlan(null);
    setError(null);
    const body = { action, dry_run: true, ...(mode ? { mode } : {}) };
    api.call<Plan>("POST", `/1.0/cluster/members/${encodeURIComponent(member)}/state`, body)
      .then((p) => current && setPlan(p))
      .catch((err) => current && setError(messageOf(err)));
    return () => {
      current = false;
    };
  }, [api, member, action, mode]);

  const confirm = async () => {
    setStarting(true);
    setError(null);
    try {
      const op = await api.operation("POST", `/1.0/cluster/members/${encodeURIComponent(member)}/state`, { action, ...(mode ? { mode } : {}) });
      cluster.upsertOperation(op);
      onClose();
    } catch (err) {
      setError(messageOf(err));
      setStarting(false);
    }
  };

  const verb = action === "evacuate" ? "Evacuate" : "Restore";
  const count = plan ? (plan.action === "evacuate" ? plan.instances.length : plan.start.length + plan.move_back.length) : 0;
  return (
    <Dialog title={`${verb} ${member}`} onClose={onClose} wide>
      <form class="form-row" onSubmit={(e) => e.preventDefault()}>
        <label>
          Mode
          <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value)} aria-describedby="mode-help">
            {action === "evacuate"
              ? ["", ...EVACUATE_MODES].map((m) => <option key={m} value={m}>{m === "" ? "per instance (default)" : m}</option>)
              : [<option key="" value="">move and start instances back</option>, <option key="skip" value="skip">skip: mark restored, touch nothing</option>]}
          </select>
        </label>
        <p id="mode-help" class="muted">{action === "evacuate" ? MODE_HELP[mode] : mode === "skip" ? "The member takes new instances again; nothing is started or moved." : "Instances stopped by the evacuation start again; instances moved away come back."}</p>
      </form>
      <h3>Plan (dry run: nothing has changed yet)</h3>
      {error ? <Notice>{error}</Notice> : null}
      {!plan && !error ? <p class="muted" role="status">Working out the plan…</p> : null}
      {plan ? <PlanTable plan={plan} /> : null}
      <footer class="dialog-actions">
        <button type="button" class="btn btn-plain" onClick={onClose}>Cancel</button>
        <Action kind={action === "evacuate" ? "danger" : "primary"} does={`${verb === "Evacuate" ? "Evacuating" : "Restoring"} a member`} onClick={confirm} busy={starting} unavailable={plan ? null : "The plan is not ready"}>
          {verb} {member} ({plural(count, "instance")})
        </Action>
      </footer>
    </Dialog>
  );
}

function PlanTable({ plan }: { plan: Plan }) {
  if (plan.action === "evacuate") {
    if (plan.instances.length === 0) return <p class="muted">No instances on {plan.member}: it is marked evacuated and takes no new ones.</p>;
    return (
      <table class="table" aria-label="Evacuation plan">
        <thead><tr><th>Instance</th><th>Project</th><th>Status</th><th>Action</th><th>Target</th><th>Why</th></tr></thead>
        <tbody>
          {plan.instances.map((i) => (
            <tr key={`${i.project}/${i.name}`}>
              <td>{i.name}</td><td>{i.project}</td><td><Status status={i.status} /></td><td>{i.action}</td>
              <td>{i.target ?? <span class="muted">stays</span>}</td><td class="why">{i.why}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  const rows = [...plan.start.map((i) => ({ ...i, action: `start on ${plan.member}` })), ...plan.move_back.map((i) => ({ ...i, action: `move back from ${i.from}` }))];
  if (rows.length === 0) return <p class="muted">Nothing to start or move back: {plan.member} just takes new instances again.</p>;
  return (
    <table class="table" aria-label="Restore plan">
      <thead><tr><th>Instance</th><th>Project</th><th>Action</th></tr></thead>
      <tbody>{rows.map((i) => <tr key={`${i.project}/${i.name}`}><td>{i.name}</td><td>{i.project}</td><td>{i.action}</td></tr>)}</tbody>
    </table>
  );
}
