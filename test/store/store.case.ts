/**
 * The store conformance suite: what every Store implementation must do (src/store/store.ts), run
 * against each one: SQLite (sqlite.test.ts) and PostgreSQL (postgres.test.ts). Each test starts
 * from an empty store and uses only the interface — except the check of a move's new location
 * (placement/confirmFit.ts through cluster/instanceRecords.ts), which runs in the store's
 * transaction and row lock and so must hold on every store.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClusterChanges, type ClusterChange } from "../../src/cluster/changes.ts";
import { InstanceRecords } from "../../src/cluster/instanceRecords.ts";
import { NoLongerFits } from "../../src/cluster/placementPort.ts";
import { defaultServerConfig } from "../../src/domain/serverConfig.ts";
import type { Instance, MemberResources } from "../../src/domain/types.ts";
import { EventBus } from "../../src/events/bus.ts";
import { moveConfirmation } from "../../src/placement/confirmFit.ts";
import { DuplicateKey, type NewMember, type Store } from "../../src/store/store.ts";

export interface StoreFixture {
  store: Store;
  /** A second handle on the same database (a restart, or another replica); null when the implementation has none. */
  reopen(): Promise<Store>;
  close(): Promise<void>;
}

const GiB = 1024 ** 3;
const resources = (cpu: number): MemberResources => ({
  cpu: { architecture: "x86_64", total: cpu },
  memory: { total: 8 * GiB, used: GiB },
  storage: { pools: { default: { total: 100 * GiB, used: 0 } } },
  gpu: { total: 0, cards: [] },
  load: { average_1m: 0.5, average_5m: 0.25, average_15m: 0.125, processes: 42 },
}) as MemberResources;

const member = (name: string, groups: string[] = ["default"]): NewMember => ({
  server_name: name, url: `https://${name}:8443`, architecture: "x86_64", failure_domain: "rack1", description: `member ${name}`,
  roles: ["database"], config: { "user.a": "1" }, groups, resources: resources(4),
});

const instance = (name: string, location: string, extra: Partial<Instance> = {}): Instance => ({
  name, project: "default", type: "container", architecture: "x86_64", location, status: "Stopped", description: "",
  config: { "limits.cpu": "2", "limits.memory": "1GiB", "user.note": "x" },
  devices: { root: { type: "disk", path: "/", pool: "default", size: "10GiB" } }, profiles: ["default"],
  created_at: "2026-01-01T00:00:00.000Z", ...extra,
});

export function storeConformance(label: string, setup: () => Promise<StoreFixture>): void {
  describe(`store conformance: ${label}`, () => {
    let f: StoreFixture;
    let s: Store;
    beforeEach(async () => {
      f = await setup();
      s = f.store;
      await s.insertGroup("default", "Default cluster group", []);
      await s.insertProject({ name: "default", description: "Default project", config: {} });
    });
    afterEach(async () => { await f.close(); });

    it("members: insert with groups, read back, update, lifecycle, heartbeat, list in name order, delete with links and tokens", async () => {
      await s.insertGroup("gpu", "", []);
      await s.insertMember(member("n2", ["default", "gpu"]), 1000);
      await s.insertMember(member("n1"), 2000);
      const n2 = await s.getMember("n2");
      expect(n2).toMatchObject({
        server_name: "n2", url: "https://n2:8443", failure_domain: "rack1", roles: ["database"], config: { "user.a": "1" },
        state: "CREATED", last_heartbeat: null, resources: resources(4),
      });
      expect((await s.listMembers()).map((m) => m.server_name)).toEqual(["n1", "n2"]);
      expect(await s.groupsOfMember("n2")).toEqual(["default", "gpu"]);
      expect((await s.getGroup("gpu"))?.members).toEqual(["n2"]);

      await s.updateMember("n2", { description: "changed", config: {} });
      await s.setMemberLifecycle("n2", "EVACUATING");
      await s.recordHeartbeats([{ name: "n2", resources: resources(8), state: null, at: 5000 }, { name: "gone", resources: null, state: null, at: 5000 }]);
      const after = await s.getMember("n2");
      expect(after).toMatchObject({ description: "changed", config: {}, state: "EVACUATING", url: "https://n2:8443" });
      expect(after?.resources?.cpu.total).toBe(8);
      expect(Date.parse(after!.last_heartbeat!)).toBe(5000);
      await s.recordHeartbeats([{ name: "n2", resources: null, state: null, at: 6000 }]); // a bare heartbeat keeps the resources
      expect((await s.getMember("n2"))?.resources?.cpu.total).toBe(8);
      expect(Date.parse((await s.getMember("n2"))!.last_heartbeat!)).toBe(6000);

      await s.insertToken({ id: "t1", hash: "h1", role: "agent", member: "n2", description: "" }, 1);
      await s.insertToken({ id: "t2", hash: "h2", role: "admin", member: null, description: "" }, 1);
      await s.deleteMember("n2");
      expect(await s.getMember("n2")).toBeUndefined();
      expect((await s.getGroup("gpu"))?.members).toEqual([]);
      expect(await s.findTokenByHash("h1")).toBeUndefined(); // the member's agent token went with it
      expect(await s.findTokenByHash("h2")).toMatchObject({ id: "t2", role: "admin" });
    });

    it("a second member or group of the same name is refused with DuplicateKey, and nothing of it is written", async () => {
      await s.insertMember(member("n1"), 1);
      await expect(s.insertMember({ ...member("n1"), description: "again" }, 2)).rejects.toBeInstanceOf(DuplicateKey);
      expect((await s.getMember("n1"))?.description).toBe("member n1");
      await expect(s.insertGroup("default", "again", [])).rejects.toBeInstanceOf(DuplicateKey);
      await s.insertInstance(instance("a", "n1"));
      await expect(s.insertInstance(instance("a", "n1", { description: "twice" }))).rejects.toBeInstanceOf(DuplicateKey);
      expect((await s.listInstances()).map((i) => i.description)).toEqual([""]);
    });

    it("groups: list, update description and members, set a member's groups, delete", async () => {
      await s.insertMember(member("n1"), 1);
      await s.insertMember(member("n2"), 1);
      await s.insertGroup("rack", "first", ["n2", "n1"]);
      expect(await s.groupExists("rack")).toBe(true);
      expect(await s.groupExists("nope")).toBe(false);
      expect(await s.getGroup("rack")).toEqual({ name: "rack", description: "first", members: ["n1", "n2"] });
      await s.updateGroup("rack", undefined, ["n2"]);
      expect(await s.getGroup("rack")).toEqual({ name: "rack", description: "first", members: ["n2"] });
      await s.updateGroup("rack", "second", undefined);
      expect((await s.getGroup("rack"))?.description).toBe("second");
      await s.setMemberGroups("n1", ["rack"]);
      expect(await s.groupsOfMember("n1")).toEqual(["rack"]);
      expect((await s.listGroups()).map((g) => [g.name, g.members])).toEqual([["default", ["n2"]], ["rack", ["n1", "n2"]]]);
      await s.deleteGroup("rack");
      expect(await s.getGroup("rack")).toBeUndefined();
      expect(await s.groupsOfMember("n1")).toEqual([]);
    });

    it("pools and projects: insert, get, update, list, delete", async () => {
      await s.insertPool({ name: "ceph", driver: "ceph", description: "shared", config: { "ceph.cluster_name": "c" }, status: "Created", defined_on: [] });
      await s.insertPool({ name: "local", driver: "zfs", description: "", config: {}, status: "Pending", defined_on: ["n1"] });
      expect(await s.getPool("ceph")).toEqual({
        name: "ceph", driver: "ceph", description: "shared", config: { "ceph.cluster_name": "c" }, status: "Created", defined_on: [],
      });
      expect(await s.getPool("local")).toMatchObject({ status: "Pending", defined_on: ["n1"] });
      await s.updatePool("ceph", { description: "still shared", config: {} });
      expect(await s.getPool("ceph")).toMatchObject({ description: "still shared", config: {}, status: "Created" });
      // A Pending pool defined on one more member, then created: only the given fields change.
      await s.updatePool("local", { defined_on: ["n1", "n2"] });
      expect(await s.getPool("local")).toMatchObject({ status: "Pending", defined_on: ["n1", "n2"], description: "" });
      await s.updatePool("local", { status: "Created", defined_on: [] });
      expect(await s.getPool("local")).toMatchObject({ status: "Created", defined_on: [] });
      expect((await s.listPools()).map((p) => p.name)).toEqual(["ceph", "local"]);
      await s.deletePool("local");
      expect(await s.getPool("local")).toBeUndefined();

      await s.insertProject({ name: "web", description: "", config: { "restricted.cluster.groups": "default" } });
      await s.updateProject("web", "the web", { "user.x": "y" });
      expect(await s.getProject("web")).toEqual({ name: "web", description: "the web", config: { "user.x": "y" } });
      expect((await s.listProjects()).map((p) => p.name)).toEqual(["default", "web"]);
      await s.deleteProject("web");
      expect(await s.getProject("web")).toBeUndefined();
    });

    it("instances: insert, get, filter and count, update each field, status, delete", async () => {
      for (const name of ["n1", "n2", "n3"]) await s.insertMember(member(name), 1);
      await s.insertInstance(instance("b", "n1", { status: "Running" }));
      await s.insertInstance(instance("a", "n2"));
      await s.insertProject({ name: "p", description: "", config: {} });
      await s.insertInstance(instance("a", "n1", { project: "p" }));
      expect(await s.getInstance("default", "b")).toEqual(instance("b", "n1", { status: "Running" }));
      expect((await s.listInstances()).map((i) => `${i.project}/${i.name}`)).toEqual(["default/a", "default/b", "p/a"]);
      expect((await s.listInstances({ location: "n1" })).map((i) => `${i.project}/${i.name}`)).toEqual(["default/b", "p/a"]);
      expect((await s.listInstances({ project: "p" })).map((i) => i.name)).toEqual(["a"]);
      expect(await s.countInstances()).toBe(3);
      expect(await s.countInstances({ project: "default", location: "n1" })).toBe(1);
      expect(new Set(await s.countInstancesByLocationAndStatus())).toEqual(new Set([
        { location: "n1", status: "Running", n: 1 }, { location: "n1", status: "Stopped", n: 1 }, { location: "n2", status: "Stopped", n: 1 },
      ]));

      await s.updateInstance("default", "a", { location: "n3" });
      await s.updateInstance("default", "a", { config: { "limits.cpu": "4" } });
      await s.updateInstance("default", "a", { description: "d", profiles: ["x"], devices: {}, status: "Running" });
      await s.setInstanceStatus("default", "b", "Stopped");
      expect(await s.getInstance("default", "a")).toMatchObject({
        location: "n3", config: { "limits.cpu": "4" }, description: "d", profiles: ["x"], devices: {}, status: "Running",
      });
      expect((await s.getInstance("default", "b"))?.status).toBe("Stopped");
      await s.deleteInstance("default", "a");
      expect(await s.getInstance("default", "a")).toBeUndefined();
      expect(await s.getInstance("p", "a")).toBeDefined(); // same name, other project: untouched

      // LXD's create source is kept as given; an instance made without one has none.
      const source = { type: "image" as const, alias: "alpine/3.20", server: "https://images.example", protocol: "simplestreams", properties: { os: "alpine" } };
      await s.insertInstance(instance("c", "n2", { source }));
      expect((await s.getInstance("default", "c"))?.source).toEqual(source);
      expect(await s.getInstance("default", "b")).not.toHaveProperty("source");
    });

    it("instance resources: only what a request is read from, paged in (project, name) order", async () => {
      await s.insertMember(member("n1"), 1);
      for (const name of ["c", "a", "b", "d"]) await s.insertInstance(instance(name, "n1"));
      const all = await s.listInstanceResources();
      expect(all.map((i) => i.name)).toEqual(["a", "b", "c", "d"]);
      expect(all[0]).toEqual({
        project: "default", name: "a", location: "n1", config: { "limits.cpu": "2", "limits.memory": "1GiB" },
        devices: { root: { type: "disk", path: "/", pool: "default", size: "10GiB" } },
      });
      const first = await s.listInstanceResources(null, 2);
      const next = await s.listInstanceResources(first[first.length - 1], 2);
      const last = await s.listInstanceResources(next[next.length - 1], 2);
      expect([...first, ...next, ...last].map((i) => i.name)).toEqual(["a", "b", "c", "d"]);
      expect(last).toEqual([]);
    });

    it("instance resources on one member, read in a transaction that holds the member's row", async () => {
      await s.insertMember(member("n1"), 1);
      await s.insertMember(member("n2"), 1);
      await s.insertInstance(instance("a", "n1"));
      await s.insertInstance(instance("b", "n2"));
      await s.insertInstance(instance("c", "n1", { config: { "limits.cpu": "4" } }));
      const on = await s.transaction(async (tx) => {
        await tx.lockMember("n1");
        return tx.instanceResourcesOn("n1");
      });
      expect(on.map((i) => [i.name, i.config["limits.cpu"]]).sort()).toEqual([["a", "2"], ["c", "4"]]);
      expect(await s.instanceResourcesOn("n3")).toEqual([]);
    });

    /** The instance records of one replica, whose view never hears of what the others store; cpus not over-committed (ratio 1). */
    const recordsOf = (store: Store, published: ClusterChange[] = [], afterCheck: () => Promise<void> = async () => {}) => {
      const changes = new ClusterChanges();
      changes.subscribe((change) => published.push(change));
      const config = { ...defaultServerConfig(), "scheduler.cpu_allocation_ratio": 1 };
      const confirm = moveConfirmation(() => config, (record) => record);
      return new InstanceRecords(store, new EventBus(), changes, async (tx, instance, target) => {
        await confirm(tx, instance, target);
        await afterCheck();
      });
    };

    it("a move's new location is checked against what is stored on the target, in the write's transaction: refused, nothing written, when others filled it", async () => {
      await s.insertMember(member("n1"), 1);
      await s.insertMember(member("n2"), 1); // 4 cpus
      await s.insertInstance(instance("mover", "n1", { status: "Running" })); // 2 cpus
      const published: ClusterChange[] = [];
      const records = recordsOf(s, published);
      // Another replica's commits, through its own handle: n2's 4 cpus are taken.
      const other = await f.reopen();
      await other.insertInstance(instance("a", "n2"));
      await other.insertInstance(instance("b", "n2"));

      const refused = records.recordLocation("default", "mover", "n2");
      await expect(refused).rejects.toBeInstanceOf(NoLongerFits);
      await expect(refused).rejects.toThrow(/"mover".*no longer fits on cluster member "n2".*needs 2 more cpu, 0 of 4 free/);
      // A heal's move (marks, Stopped and the location in one write) is refused whole.
      await expect(records.recordHealed("default", "mover", { "volatile.evacuate.origin": "n1" }, "n2")).rejects.toBeInstanceOf(NoLongerFits);
      expect(await s.getInstance("default", "mover")).toEqual(instance("mover", "n1", { status: "Running" }));
      expect(published).toEqual([]);

      await other.deleteInstance("default", "b"); // room for it again
      await records.recordLocation("default", "mover", "n2");
      expect((await s.getInstance("default", "mover"))?.location).toBe("n2");
      expect(published).toMatchObject([{ kind: "instance", instance: { name: "mover", location: "n2" }, previousLocation: "n1" }]);
    });

    it("of two moves onto a member with room for one, made at once by two views that know nothing of each other, exactly one lands", async () => {
      await s.insertMember(member("n1"), 1);
      await s.insertMember(member("n2"), 1);
      await s.insertInstance(instance("filler", "n2")); // n2: 2 of 4 cpus free
      await s.insertInstance(instance("m1", "n1"));
      await s.insertInstance(instance("m2", "n1"));
      // Each move, once checked, waits for the other to be checked too (or a while, when the
      // other cannot get to its check: the member's row is locked): checked both, both would land.
      let checked = 0;
      let bothChecked!: () => void;
      const both = new Promise<void>((resolve) => { bothChecked = resolve; });
      const meet = async () => {
        if (++checked === 2) bothChecked();
        await Promise.race([both, new Promise((resolve) => setTimeout(resolve, 300))]);
      };
      const results = await Promise.allSettled([
        recordsOf(s, [], meet).recordLocation("default", "m1", "n2"),
        recordsOf(s, [], meet).recordLocation("default", "m2", "n2"), // PostgreSQL: another pooled connection; SQLite: its one writer
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: expect.any(NoLongerFits) });
      expect(await s.listInstances({ location: "n2" })).toHaveLength(2);
    });

    it("server config: write and remove keys, read them all", async () => {
      await s.writeConfig({ "cluster.offline_threshold": "30", "scheduler.strategy": "spread" });
      await s.writeConfig({ "cluster.offline_threshold": "40", "scheduler.strategy": null });
      expect(await s.readConfig()).toEqual({ "cluster.offline_threshold": "40" });
    });

    it("tokens: insert, find by hash, touch, list, count by role, delete", async () => {
      await s.insertToken({ id: "a1", hash: "ha", role: "admin", member: null, description: "first" }, 100);
      await s.insertToken({ id: "v1", hash: "hv", role: "viewer", member: null, description: "" }, 200);
      expect(await s.findTokenByHash("ha")).toMatchObject({ id: "a1", role: "admin", member: null, description: "first" });
      await s.touchToken("a1", 300);
      expect((await s.listTokens()).map((t) => t.id)).toEqual(["a1", "v1"]);
      expect(await s.countTokens()).toBe(2);
      expect(await s.countTokens("viewer")).toBe(1);
      expect(await s.deleteToken("v1")).toBe(true);
      expect(await s.deleteToken("v1")).toBe(false);
      expect(await s.findTokenByHash("hv")).toBeUndefined();
    });

    it("join tokens: insert, find by hash, get, list (all or a member's), used once, revoked by id or member, kept after both", async () => {
      await s.insertJoinToken({ id: "j1", hash: "h1", member: "n1", expiresAt: 10_000 }, 1_000);
      await s.insertJoinToken({ id: "j2", hash: "h2", member: "n2", expiresAt: 10_000 }, 2_000);
      await s.insertJoinToken({ id: "j0", hash: "h3", member: "n1", expiresAt: 10_000 }, 2_000); // made at the same time as j2: listed after it
      const fresh = { id: "j1", server_name: "n1", created_at: new Date(1_000).toISOString(), expires_at: new Date(10_000).toISOString(), used_at: null, credential_id: null, revoked_at: null, revoked_reason: "" };
      expect(await s.findJoinTokenByHash("h1")).toEqual(fresh);
      expect(await s.getJoinToken("j1")).toEqual(fresh);
      expect(await s.findJoinTokenByHash("nope")).toBeUndefined();
      expect((await s.listJoinTokens()).map((j) => j.id)).toEqual(["j1", "j2", "j0"]);
      expect((await s.listJoinTokens("n1")).map((j) => j.id)).toEqual(["j1", "j0"]);
      await expect(s.insertJoinToken({ id: "j4", hash: "h1", member: "n1", expiresAt: 1 }, 1)).rejects.toBeInstanceOf(DuplicateKey);

      // Used once: the second use, and a use at or after expiry, change nothing.
      expect(await s.useJoinToken("j1", "cred1", 5_000)).toBe(true);
      expect(await s.useJoinToken("j1", "cred2", 5_001)).toBe(false);
      expect(await s.getJoinToken("j1")).toMatchObject({ used_at: new Date(5_000).toISOString(), credential_id: "cred1" });
      expect(await s.useJoinToken("j2", "cred3", 10_000)).toBe(false);
      expect((await s.getJoinToken("j2"))?.used_at).toBeNull();

      // Revoking a member's tokens touches neither a used one nor another member's; a revoked one cannot be used.
      expect(await s.revokeJoinTokens({ member: "n1" }, "member removed", 6_000)).toBe(1);
      expect(await s.getJoinToken("j0")).toMatchObject({ revoked_at: new Date(6_000).toISOString(), revoked_reason: "member removed" });
      expect((await s.getJoinToken("j1"))?.revoked_at).toBeNull();
      expect(await s.useJoinToken("j0", "cred4", 6_001)).toBe(false);
      expect(await s.revokeJoinTokens({ id: "j2" }, "revoked by an administrator", 7_000)).toBe(1);
      expect(await s.revokeJoinTokens({ id: "j2" }, "again", 8_000)).toBe(0);
      expect(await s.getJoinToken("j2")).toMatchObject({ revoked_reason: "revoked by an administrator" });
      expect(await s.dumpTable("join_tokens")).toHaveLength(3);
    });

    it("of concurrent uses of one join token exactly one wins", async () => {
      await s.insertJoinToken({ id: "j1", hash: "h1", member: "n1", expiresAt: 10_000 }, 1_000);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.useJoinToken("j1", `cred${i}`, 2_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("certificates: insert, get, list in the order added, a repeated fingerprint is DuplicateKey, delete once", async () => {
      const cert = (fingerprint: string, name: string) => ({ fingerprint, name, type: "client" as const, certificate: `PEM of ${name}` });
      await s.insertCertificate(cert("bb".repeat(32), "laptop"), 1_000);
      await s.insertCertificate(cert("aa".repeat(32), "ci"), 2_000);
      const laptop = {
        fingerprint: "bb".repeat(32), name: "laptop", type: "client", certificate: "PEM of laptop", restricted: false, projects: [],
        created_at: new Date(1_000).toISOString(),
      };
      expect(await s.getCertificate("bb".repeat(32))).toEqual(laptop);
      expect(await s.getCertificate("cc".repeat(32))).toBeUndefined();
      expect((await s.listCertificates()).map((c) => c.name)).toEqual(["laptop", "ci"]);
      await expect(s.insertCertificate(cert("bb".repeat(32), "again"), 3_000)).rejects.toBeInstanceOf(DuplicateKey);
      expect(await s.getCertificate("bb".repeat(32))).toEqual(laptop); // the failed insert changed nothing
      expect(await s.deleteCertificate("bb".repeat(32))).toBe(true);
      expect(await s.deleteCertificate("bb".repeat(32))).toBe(false);
      expect((await s.listCertificates()).map((c) => c.name)).toEqual(["ci"]);
    });

    it("trust tokens: insert, find by hash, get, list, used once (not after expiry), revoked once, kept after both", async () => {
      await s.insertTrustToken({ id: "t1", hash: "h1", name: "laptop", type: "client", expiresAt: 10_000 }, 1_000);
      await s.insertTrustToken({ id: "t2", hash: "h2", name: "ci", type: "client", expiresAt: 10_000 }, 2_000);
      await s.insertTrustToken({ id: "t0", hash: "h3", name: "ci", type: "client", expiresAt: 10_000 }, 2_000); // listed after t2
      const fresh = {
        id: "t1", name: "laptop", type: "client", created_at: new Date(1_000).toISOString(), expires_at: new Date(10_000).toISOString(),
        used_at: null, fingerprint: null, revoked_at: null,
      };
      expect(await s.findTrustTokenByHash("h1")).toEqual(fresh);
      expect(await s.getTrustToken("t1")).toEqual(fresh);
      expect(await s.findTrustTokenByHash("nope")).toBeUndefined();
      expect((await s.listTrustTokens()).map((t) => t.id)).toEqual(["t1", "t2", "t0"]);
      await expect(s.insertTrustToken({ id: "t4", hash: "h1", name: "x", type: "client", expiresAt: 1 }, 1)).rejects.toBeInstanceOf(DuplicateKey);

      expect(await s.useTrustToken("t1", "ff".repeat(32), 5_000)).toBe(true);
      expect(await s.useTrustToken("t1", "ee".repeat(32), 5_001)).toBe(false);
      expect(await s.getTrustToken("t1")).toMatchObject({ used_at: new Date(5_000).toISOString(), fingerprint: "ff".repeat(32) });
      expect(await s.useTrustToken("t2", "ee".repeat(32), 10_000)).toBe(false); // expired at 10_000
      expect(await s.revokeTrustToken("t1", 6_000)).toBe(false); // used: nothing to revoke
      expect(await s.revokeTrustToken("t0", 6_000)).toBe(true);
      expect(await s.revokeTrustToken("t0", 7_000)).toBe(false);
      expect(await s.getTrustToken("t0")).toMatchObject({ revoked_at: new Date(6_000).toISOString() });
      expect(await s.useTrustToken("t0", "ee".repeat(32), 6_001)).toBe(false);
      expect(await s.dumpTable("trust_tokens")).toHaveLength(3);
    });

    it("of concurrent uses of one trust token exactly one wins", async () => {
      await s.insertTrustToken({ id: "t1", hash: "h1", name: "laptop", type: "client", expiresAt: 10_000 }, 1_000);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.useTrustToken("t1", String(i).repeat(64), 2_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("of concurrent transactions that each trust a certificate with the same trust token, exactly one commits", async () => {
      await s.insertTrustToken({ id: "t1", hash: "h1", name: "laptop", type: "client", expiresAt: 10_000 }, 1_000);
      const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => s.transaction(async (tx) => {
        const fingerprint = String(i).repeat(64);
        await tx.insertCertificate({ fingerprint, name: "laptop", type: "client", certificate: `PEM ${i}` }, 2_000);
        if (!(await tx.useTrustToken("t1", fingerprint, 2_000))) throw new Error("lost the race");
      })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const kept = await s.listCertificates();
      expect(kept).toHaveLength(1);
      expect((await s.getTrustToken("t1"))?.fingerprint).toBe(kept[0].fingerprint);
    });

    it("operations: insert, update, get, list by status, count, prune only finished ones older than the cutoff", async () => {
      const op = (id: string) => ({ id, kind: "evacuate", description: id, resources: { cluster: ["/1.0/cluster/members/n1"] }, metadata: {}, input: { member: "n1" }, mayCancel: true });
      await s.insertOperation(op("old-done"), 1_000);
      await s.insertOperation(op("old-running"), 1_000);
      await s.insertOperation(op("new-done"), 5_000);
      await s.updateOperation("old-done", { status: "Success", metadata: { done: 3 }, mayCancel: false }, 1_500);
      await s.updateOperation("new-done", { status: "Failure", err: "boom" }, 6_000);
      expect(await s.getOperation("old-done")).toMatchObject({ status: "Success", metadata: { done: 3 }, may_cancel: false, input: { member: "n1" } });
      expect(await s.getOperation("new-done")).toMatchObject({ status: "Failure", err: "boom" });
      expect((await s.listOperations()).map((o) => o.id)).toEqual(["old-done", "old-running", "new-done"]);
      expect((await s.listOperations(["Running"])).map((o) => o.id)).toEqual(["old-running"]);
      expect(new Set(await s.countOperationsByStatus())).toEqual(new Set([
        { status: "Success", n: 1 }, { status: "Running", n: 1 }, { status: "Failure", n: 1 },
      ]));
      expect(await s.pruneOperations(3_000)).toBe(1); // old-done; a running one is never pruned
      expect((await s.listOperations()).map((o) => o.id)).toEqual(["old-running", "new-done"]);
    });

    it("a transaction's writes land together, or not at all when it throws", async () => {
      await s.transaction(async (tx) => {
        await tx.insertMember(member("n1"), 1);
        await tx.insertInstance(instance("a", "n1"));
        expect(await tx.getMember("n1")).toBeDefined(); // it reads its own writes
      });
      expect(await s.getInstance("default", "a")).toBeDefined();
      await expect(s.transaction(async (tx) => {
        await tx.insertInstance(instance("b", "n1"));
        await tx.setMemberLifecycle("n1", "EVACUATED");
        throw new Error("changed my mind");
      })).rejects.toThrow("changed my mind");
      expect(await s.getInstance("default", "b")).toBeUndefined();
      expect((await s.getMember("n1"))?.state).toBe("CREATED");
    });

    it("a write made beside an open transaction is not part of it: it survives the transaction's rollback", async () => {
      await s.insertMember(member("n1"), 1);
      let inside!: () => void;
      const paused = new Promise<void>((resolve) => { inside = resolve; });
      let resume!: () => void;
      const failing = s.transaction(async (tx) => {
        await tx.insertInstance(instance("in-tx", "n1"));
        inside();
        await new Promise<void>((resolve) => { resume = resolve; });
        throw new Error("roll back");
      });
      await paused;
      const beside = s.insertInstance(instance("beside", "n1")); // issued while the transaction is open
      resume();
      await expect(failing).rejects.toThrow("roll back");
      await beside;
      expect((await s.listInstances()).map((i) => i.name)).toEqual(["beside"]);
    });

    it("what was written is there for the next handle on the same database (a restart or another replica)", async () => {
      await s.insertMember(member("n1"), 1);
      await s.insertInstance(instance("a", "n1"));
      await s.writeConfig({ "scheduler.strategy": "pack" });
      const other = await f.reopen();
      expect((await other.getMember("n1"))?.server_name).toBe("n1");
      expect((await other.getInstance("default", "a"))?.location).toBe("n1");
      expect(await other.readConfig()).toEqual({ "scheduler.strategy": "pack" });
    });

    it("dumpTable returns every row of a named table, and refuses an unknown one", async () => {
      await s.insertMember(member("n1"), 1);
      expect(await s.dumpTable("members")).toHaveLength(1);
      await expect(s.dumpTable("nope" as never)).rejects.toThrow();
    });
  });
}
