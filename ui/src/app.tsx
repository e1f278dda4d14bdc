/** The dashboard: sign-in, then the page shell (navigation, connection, role) around the current page. */
import type { ComponentChildren, ComponentType } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api } from "./api.ts";
import { Cluster, type ServerInfo } from "./cluster.ts";
import { Notice } from "./components/Notice.tsx";
import { SessionContext, useCluster, useSession, type Session } from "./context.ts";
import { EventsPage } from "./pages/Events.tsx";
import { InstancesPage } from "./pages/Instances.tsx";
import { MemberPage } from "./pages/Member.tsx";
import { MembersPage } from "./pages/Members.tsx";
import { OperationsPage } from "./pages/Operations.tsx";
import { PlacementPage } from "./pages/Placement.tsx";
import { SignIn } from "./pages/SignIn.tsx";
import { Link, usePath } from "./router.tsx";
import { session as storage } from "./session.ts";

export function App() {
  const [token, setToken] = useState<string | null>(storage.token);
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = (message?: string) => {
    storage.clear();
    setNotice(message ?? null);
    setToken(null);
  };
  if (!token) {
    return <SignIn notice={notice} onSignedIn={(secret: string, _server: ServerInfo) => { storage.save(secret); setNotice(null); setToken(secret); }} />;
  }
  return <SignedIn key={token} token={token} signOut={signOut} />;
}

function SignedIn({ token, signOut }: { token: string; signOut: (message?: string) => void }) {
  const value = useMemo<Session>(() => {
    const api = new Api(token, (message) => signOut(`The service refused the token (${message}). Sign in again.`));
    return { api, cluster: new Cluster(api), readOnly: true, signOut };
  }, [token]);
  useEffect(() => {
    value.cluster.start();
    return () => value.cluster.stop();
  }, [value]);
  return (
    <SessionContext.Provider value={value}>
      <RoleGate>
        <Shell />
      </RoleGate>
    </SessionContext.Provider>
  );
}

/** Waits for GET /1.0 to know the role: nothing is offered before we know whether it may be used. */
function RoleGate({ children }: { children: ComponentChildren }) {
  const session = useSession();
  const { server, error } = useCluster();
  const readOnly = server?.auth_role !== "admin";
  const value = useMemo(() => ({ ...session, readOnly }), [session, readOnly]);
  if (!server) return <main class="loading">{error ? <Notice>{error}</Notice> : <p class="muted" role="status">Loading the cluster…</p>}</main>;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

const NAV: { to: string; label: string; match: (path: string) => boolean }[] = [
  { to: "/", label: "Members", match: (p) => p === "/" || p.startsWith("/members") },
  { to: "/instances", label: "Instances", match: (p) => p.startsWith("/instances") },
  { to: "/placement", label: "Placement", match: (p) => p.startsWith("/placement") },
  { to: "/scriptlet", label: "Scriptlet", match: (p) => p.startsWith("/scriptlet") },
  { to: "/operations", label: "Operations", match: (p) => p.startsWith("/operations") },
  { to: "/events", label: "Events", match: (p) => p.startsWith("/events") },
];

function Shell() {
  const path = usePath();
  const { readOnly, signOut } = useSession();
  const { server, stream, error, operations } = useCluster();
  const running = operations.filter((o) => o.status === "Running" || o.status === "Pending").length;
  return (
    <>
      <header class="topbar">
        <Link to="/" class="brand"><img src="/ui/favicon.svg" alt="" width={22} height={22} /> Berth</Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={n.match(path) ? "page" : undefined}>
                  {n.label}{n.to === "/operations" && running > 0 ? <span class="count" aria-label={`${running} running`}>{running}</span> : null}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="topbar-right">
          <span class={`live live-${stream}`} role="status" title="The event stream (GET /1.0/events)">{stream === "live" ? "Live" : stream === "refused" ? "Events refused" : "Reconnecting…"}</span>
          <span class="muted small" title="server name">{server?.environment.server_name}</span>
          <span class={`role role-${readOnly ? "viewer" : "admin"}`} title={readOnly ? "A viewer token: everything is visible, nothing can be changed" : "An admin token: every action is available"}>
            {readOnly ? "viewer · read-only" : "admin"}
          </span>
          <button type="button" class="btn btn-plain btn-small" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      {error ? <div class="banner"><Notice>Could not refresh: {error}</Notice></div> : null}
      <main>{page(path)}</main>
    </>
  );
}

function page(path: string) {
  const member = /^\/members\/([^/]+)\/?$/.exec(path);
  if (member) return <MemberPage name={decodeURIComponent(member[1])} />;
  switch (path.replace(/\/$/, "") || "/") {
    case "/":
    case "/members":
      return <MembersPage />;
    case "/instances":
      return <InstancesPage />;
    case "/placement":
      return <PlacementPage />;
    case "/scriptlet":
      return <ScriptletLoader />;
    case "/operations":
      return <OperationsPage />;
    case "/events":
      return <EventsPage />;
    default:
      return <div class="page"><Notice>No page at /ui{path}. <Link to="/">Members</Link></Notice></div>;
  }
}

/** The scriptlet page brings the code editor (most of the bundle): loaded when first opened. */
function ScriptletLoader() {
  const [Page, setPage] = useState<ComponentType | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    import("./pages/Scriptlet.tsx").then((m) => setPage(() => m.ScriptletPage), (err) => setError(String(err)));
  }, []);
  if (error) return <div class="page"><Notice>Could not load the editor: {error}</Notice></div>;
  return Page ? <Page /> : <div class="page"><p class="muted" role="status">Loading the editor…</p></div>;
}
