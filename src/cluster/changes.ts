/** Typed notifications of state changes, for the in-memory views that mirror the store. */
import type { ClusterGroup, Instance, Member, Project } from "../domain/types.ts";

export type ClusterChange =
  | { kind: "member"; member: Member }
  | { kind: "member-removed"; name: string }
  | { kind: "group"; group: ClusterGroup }
  | { kind: "group-removed"; name: string }
  | { kind: "project"; project: Project }
  | { kind: "project-removed"; name: string }
  | { kind: "instance"; instance: Instance; previousLocation?: string }
  | { kind: "instance-removed"; project: string; name: string; location: string };

export type ChangeListener = (change: ClusterChange) => void;

/** What a change is about ("instance:project/name", "member:n1", …): two changes with one key are states of one thing. */
export function changeKey(change: ClusterChange): string {
  switch (change.kind) {
    case "member":
      return `member:${change.member.server_name}`;
    case "group":
      return `group:${change.group.name}`;
    case "project":
      return `project:${change.project.name}`;
    case "instance":
      return `instance:${change.instance.project}/${change.instance.name}`;
    case "instance-removed":
      return `instance:${change.project}/${change.name}`;
    default:
      return `${change.kind.replace("-removed", "")}:${change.name}`;
  }
}

/**
 * A change is published after it is committed: a listener that fails can never turn that write
 * into an error for the request that made it. Its failure is reported (logged) and the other
 * listeners still hear the change.
 */
export class ClusterChanges {
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly onListenerError: (err: unknown, change: ClusterChange) => void = () => {}) {}

  subscribe(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  publish(change: ClusterChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err, change);
      }
    }
  }
}
