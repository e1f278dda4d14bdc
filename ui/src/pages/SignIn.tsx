/** Sign-in with a token: checked against GET /1.0, then kept for this tab's session. */
import { useState } from "preact/hooks";
import { Api } from "../api.ts";
import type { ServerInfo } from "../cluster.ts";
import { messageOf, Notice } from "../components/Notice.tsx";

export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string, server: ServerInfo) => void; notice: string | null }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const secret = token.trim();
    if (!secret) return setError("Paste a token first");
    setBusy(true);
    setError(null);
    try {
      const server = await new Api(secret).get<ServerInfo>("/1.0");
      if (server.auth_role === "agent") throw new Error("That is an agent token: it can only heartbeat as its member. Use an admin or viewer token.");
      onSignedIn(secret, server);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit} aria-label="Sign in">
        <h1><img src="/ui/favicon.svg" alt="" width={28} height={28} /> Berth</h1>
        <p class="muted">Sign in with an API token. It stays in this tab only and is sent with each request; closing the tab forgets it.</p>
        {notice ? <Notice kind="warn">{notice}</Notice> : null}
        <div class="field">
          <label for="token">Token</label>
          <input id="token" type="password" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} autocomplete="off" spellcheck={false} autoFocus />
        </div>
        {error ? <Notice>{error}</Notice> : null}
        <button type="submit" class="btn btn-primary" disabled={busy}>Sign in</button>
        <p class="muted small">
          The admin token is in <code>data/admin.token</code> beside the service. For read-only access create a viewer token:
          <code> berth token create --role viewer</code>.
        </p>
      </form>
    </main>
  );
}
