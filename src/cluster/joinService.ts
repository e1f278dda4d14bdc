/**
 * Join tokens (DESIGN §7): `berth cluster add NAME` makes one for the new member; its agent trades
 * the secret, once, for an agent token bound to that member (POST /1.0/cluster/join). A token
 * carries the service's URLs and certificate fingerprint (see src/domain/joinToken.ts); the store
 * keeps only the secret's hash, and keeps the row after use, expiry or revocation so that a second
 * try is told which of the three it met.
 */
import { randomBytes } from "node:crypto";
import type { ServiceEndpoints } from "../domain/endpoints.ts";
import { badRequest, BerthError, conflict, notFound, unauthorized } from "../domain/errors.ts";
import { parseDuration } from "../domain/duration.ts";
import { encodeJoinToken, JOIN_SECRET_RE, joinTokenStatus, type JoinTokenInfo, type JoinTokenStatus } from "../domain/joinToken.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";
import { hashToken, type TokenService } from "./tokenService.ts";

export const DEFAULT_JOIN_EXPIRY = "3h";
const MAX_JOIN_EXPIRY_MS = 365 * 86_400_000;

/** A join token as the API lists it: never its secret, with its status now. */
export interface JoinTokenView extends JoinTokenInfo {
  status: JoinTokenStatus;
}

/** The answer to a join: the member and its agent token (the credential the agent keeps). */
export interface JoinCredential {
  server_name: string;
  credential: string;
  credential_id: string;
}

export class JoinService {
  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly bus: EventBus,
    private readonly now: () => number,
    /** SHA-256 of the service certificate: what the token tells an agent to trust. */
    private readonly fingerprint: string,
    private readonly endpoints: () => ServiceEndpoints,
  ) {}

  /** Checks what an issue() would need before anything is written: a valid expiry and an address to put in the token. */
  checkCanIssue(expiry: string | undefined): number {
    const ms = parseDuration(expiry ?? DEFAULT_JOIN_EXPIRY);
    if (ms === null || ms < 1000 || ms > MAX_JOIN_EXPIRY_MS) {
      throw badRequest(`expiry must be a duration from 1s to 365d such as 30m, 3h, 1h30m or 7d, got ${JSON.stringify(expiry)}`);
    }
    if (this.endpoints().urls.length === 0) {
      throw conflict("This service has no listening address to put in a join token (it is not serving HTTP)");
    }
    return ms;
  }

  /** A new join token for an existing member: the token string (shown once) and its record. */
  async issue(member: string, expiry: string | undefined): Promise<{ token: string; info: JoinTokenView }> {
    const ms = this.checkCanIssue(expiry);
    if (!(await this.store.getMember(member))) throw notFound(`Cluster member "${member}" not found`);
    const secret = randomBytes(32).toString("base64url");
    const id = randomBytes(6).toString("hex");
    const now = this.now();
    await this.store.insertJoinToken({ id, hash: hashToken(secret), member, expiresAt: now + ms }, now);
    const info = (await this.store.getJoinToken(id))!;
    this.bus.lifecycle("cluster-join-token-created", `/1.0/cluster/join-tokens/${id}`, { member });
    const token = encodeJoinToken({ server_name: member, addresses: this.endpoints().urls, fingerprint: this.fingerprint, secret });
    return { token, info: this.view(info) };
  }

  async list(member?: string): Promise<JoinTokenView[]> {
    return (await this.store.listJoinTokens(member)).map((t) => this.view(t));
  }

  async get(id: string): Promise<JoinTokenView> {
    const token = await this.store.getJoinToken(id);
    if (!token) throw notFound(`Join token "${id}" not found`);
    return this.view(token);
  }

  /** Revokes an unused join token (again: nothing changes); a used one is refused, naming the agent token to revoke instead. */
  async revoke(id: string): Promise<void> {
    const token = await this.store.getJoinToken(id);
    if (!token) throw notFound(`Join token "${id}" not found`);
    if (token.used_at !== null) {
      throw conflict(
        `Join token "${id}" was already used at ${token.used_at}; to cut member "${token.server_name}" off, revoke the agent token it was traded for: DELETE /1.0/tokens/${token.credential_id} (berth token revoke ${token.credential_id})`,
      );
    }
    if (await this.store.revokeJoinTokens({ id }, "revoked by an administrator", this.now())) {
      this.bus.lifecycle("cluster-join-token-revoked", `/1.0/cluster/join-tokens/${id}`, { member: token.server_name });
    }
  }

  /**
   * Trades a join secret for a new agent token bound to its member, once. 400 for a malformed
   * secret; 401, saying which, for an unknown, revoked, used or expired one.
   */
  async exchange(secret: string, serverName: string | undefined): Promise<JoinCredential> {
    if (!JOIN_SECRET_RE.test(secret)) {
      throw badRequest("secret: not a join secret (16-256 base64url characters); send the secret field of the decoded join token");
    }
    const hash = hashToken(secret);
    const token = await this.store.findJoinTokenByHash(hash);
    if (!token) {
      throw unauthorized("Invalid join token: this service never issued it (was it made by another Berth service, or mistyped?)");
    }
    this.refuseUnusable(token);
    if (serverName !== undefined && serverName !== token.server_name) {
      throw badRequest(`server_name: this join token is for member "${token.server_name}", not "${serverName}"`);
    }
    const now = this.now();
    let credential: { id: string; secret: string };
    try {
      credential = await this.store.transaction(async (tx) => {
        if (!(await tx.getMember(token.server_name))) {
          throw unauthorized(`This join token was revoked: its member "${token.server_name}" no longer exists`);
        }
        const minted = await this.tokens.createAgentTokenIn(tx, token.server_name, `agent credential (join token ${token.id})`);
        // Conditional on the token still being usable at `now`: of two concurrent joins one wins.
        if (!(await tx.useJoinToken(token.id, minted.id, now))) throw new LostRace();
        return minted;
      });
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
      this.refuseUnusable((await this.store.getJoinToken(token.id))!);
      throw unauthorized("This join token can no longer be used"); // not reached: refuseUnusable says why
    }
    this.tokens.announce(credential.id, "agent", token.server_name);
    this.bus.lifecycle("cluster-member-joined", `/1.0/cluster/members/${token.server_name}`, { join_token: token.id, credential: credential.id });
    return { server_name: token.server_name, credential: credential.secret, credential_id: credential.id };
  }

  /** 401 naming why the token cannot be used (revoked, used, expired); returns when it can. */
  private refuseUnusable(token: JoinTokenInfo): void {
    const again = `ask an administrator for a new one (berth cluster join-token create ${token.server_name})`;
    switch (joinTokenStatus(token, this.now())) {
      case "revoked":
        throw unauthorized(`This join token was revoked at ${token.revoked_at} (${token.revoked_reason}); ${again}`);
      case "used":
        throw unauthorized(
          `This join token was already used at ${token.used_at}: a join token works once. An agent that lost its credential needs a new join token: ${again}`,
        );
      case "expired":
        throw unauthorized(`This join token expired at ${token.expires_at}; ${again}`);
      case "valid":
        return;
    }
  }

  private view(token: JoinTokenInfo): JoinTokenView {
    return { ...token, status: joinTokenStatus(token, this.now()) };
  }
}

/** The join token stopped being usable between the first look and the transaction (a concurrent join, a revocation). */
class LostRace extends BerthError {
  constructor() {
    super(401, "lost race");
  }
}
