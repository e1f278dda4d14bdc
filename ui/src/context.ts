/** What every page reaches: the API with the signed-in token, the cluster state, and the role. */
import { createContext } from "preact";
import { useContext, useEffect, useReducer } from "preact/hooks";
import type { Api } from "./api.ts";
import type { Cluster, ClusterState } from "./cluster.ts";

export interface Session {
  api: Api;
  cluster: Cluster;
  /** A viewer (or any token but admin) can read everything and change nothing. */
  readOnly: boolean;
  signOut(message?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

/** The cluster state; re-renders the component whenever it changes. */
export function useCluster(): ClusterState {
  const { cluster } = useSession();
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const changed = () => bump(undefined);
  useEffect(() => {
    const unsubscribe = cluster.subscribe(changed);
    changed(); // a change between the render and this effect
    return unsubscribe;
  }, [cluster]);
  return cluster.state;
}
