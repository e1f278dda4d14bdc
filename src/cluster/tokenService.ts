/** API tokens: random secrets stored as SHA-256 hashes, with a role and (for agents) a member. */
import { createHash, randomBytes } from "node:crypto";
import { badRequest, notFound } from "../domain/errors.ts";
import { TOKEN_ROLES, type TokenInfo, type TokenRole } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { insertIfAbsent, type Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";

const TOUCH_INTERVAL_MS = 60_000;
const MAX_CACHED = 10_000;

export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export class TokenService {
  /** secret → token: a cache so authenticating a request costs neither a query nor a hash. */
  private readonly bySecret = new Map<string, TokenInfo>();
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly memberExists: (name: string) => Promise<boolean>,
    private readonly now: () => number,
    changes: ClusterChanges,
  ) {
    // The store deletes a member's agent tokens with the member; forget the cached ones too.
    changes.subscribe((change) => {
      if (change.kind !== "member-removed") return;
      for (const [secret, token] of this.bySecret) if (token.member === change.name) this.bySecret.delete(secret);
    });
  }

  /** Creates a token and returns its secret, which is shown only this once. */
  async create(input: { role: string; member?: string | null; description?: string }, secret?: string): Promise<{ token: TokenInfo; secret: string }> {
    if (!(TOKEN_ROLES as readonly string[]).includes(input.role)) {
      throw badRequest(`role must be one of ${TOKEN_ROLES.join(", ")}, got ${JSON.stringify(input.role)}`);
    }
    const role = input.role as TokenRole;
    const member = input.member ?? null;
    if (role === "agent") {
      if (!member) throw badRequest(`member is required for an agent token (the member it may heartbeat as)`);
      if (!(await this.memberExists(member))) throw badRequest(`member: cluster member "${member}" does not exist`);
    } else if (member) {
      throw badRequest(`member is only for agent tokens, got member ${JSON.stringify(member)} with role "${role}"`);
    }
    const plain = secret ?? `berth_${randomBytes(24).toString("base64url")}`;
    const id = randomBytes(6).toString("hex");
    await this.store.insertToken({ id, hash: hashToken(plain), role, member, description: input.description ?? "" }, this.now());
    const token = (await this.list()).find((t) => t.id === id)!;
    this.announce(id, role, member);
    return { token, secret: plain };
  }

  /**
   * A new agent token for `member`, written through `store` — a transaction the caller holds and in
   * which it has checked the member (the join exchange uses its join token in the same one). The
   * caller announces it with announce() once the transaction committed.
   */
  async createAgentTokenIn(store: Store, member: string, description: string): Promise<{ id: string; secret: string }> {
    const secret = `berth_${randomBytes(24).toString("base64url")}`;
    const id = randomBytes(6).toString("hex");
    await store.insertToken({ id, hash: hashToken(secret), role: "agent", member, description }, this.now());
    return { id, secret };
  }

  /** The lifecycle event of a token created by createAgentTokenIn. */
  announce(id: string, role: TokenRole, member: string | null): void {
    this.bus.lifecycle("token-created", `/1.0/tokens/${id}`, { role, member });
  }

  list(): Promise<TokenInfo[]> {
    return this.store.listTokens();
  }

  /** One token (without its secret: only its hash is stored); 404 when there is none with that id. */
  async get(id: string): Promise<TokenInfo> {
    const token = (await this.list()).find((t) => t.id === id);
    if (!token) throw notFound(`Token "${id}" not found`);
    return token;
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.store.deleteToken(id))) throw notFound(`Token "${id}" not found`);
    this.bySecret.clear();
    this.bus.lifecycle("token-deleted", `/1.0/tokens/${id}`);
  }

  /** Forgets the cached tokens (another replica revoked one): the next use reads the store. */
  forgetCached(): void {
    this.bySecret.clear();
  }

  /** The token a secret belongs to, or undefined. */
  async authenticate(secret: string): Promise<TokenInfo | undefined> {
    let token = this.bySecret.get(secret);
    if (!token) {
      token = await this.store.findTokenByHash(hashToken(secret));
      if (!token) return undefined;
      if (this.bySecret.size >= MAX_CACHED) this.bySecret.clear();
      this.bySecret.set(secret, token);
    }
    const now = this.now();
    if (now - (this.lastTouched.get(token.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.lastTouched.set(token.id, now);
      await this.store.touchToken(token.id, now);
    }
    return token;
  }

  /**
   * First start: makes sure an admin token exists. With a given secret (BERTH_ADMIN_TOKEN) that
   * secret becomes an admin token; otherwise a random one is created when there is no admin yet.
   * Returns the new secret when one was generated.
   */
  async bootstrapAdmin(given: string | undefined): Promise<string | undefined> {
    if (given) {
      // Replicas started together with the same token: the second insert finds it made.
      if (!(await this.store.findTokenByHash(hashToken(given)))) await insertIfAbsent(() => this.create({ role: "admin", description: "bootstrap (BERTH_ADMIN_TOKEN)" }, given));
      return undefined;
    }
    if ((await this.store.countTokens("admin")) > 0) return undefined;
    return (await this.create({ role: "admin", description: "bootstrap" })).secret;
  }
}
