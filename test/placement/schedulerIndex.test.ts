/**
 * The scheduler index loads stored instances a chunk at a time while the service already runs:
 * whatever changes during the load, once it is ready it counts exactly what an index loaded from
 * the final state counts.
 */
import { expect, it } from "vitest";
import { ClusterChanges } from "../../src/cluster/changes.ts";
import type { Instance, Member } from "../../src/domain/types.ts";
import { SchedulerIndex, type InstanceReader } from "../../src/placement/schedulerIndex.ts";
import { ClusterView } from "../../src/scheduler/index.ts";

const GiB = 1024 ** 3;
const MEMBERS = ["n1", "n2", "n3"];
const member = (name: string): Member => ({
  server_name: name, url: "", architecture: "x86_64", failure_domain: "default", description: "", roles: [], groups: ["default"],
  config: {}, status: "Online", message: "", last_heartbeat: null,
  resources: {
    cpu: { architecture: "x86_64", total: 64 }, memory: { total: 256 * GiB, used: 0 }, storage: { pools: { default: { total: 10_000 * GiB, used: 0 } } },
    gpu: { total: 8, cards: [] }, load: { average_1m: 0, average_5m: 0, average_15m: 0, processes: 0 },
  },
});
const instance = (i: number, location: string, cpu = String(1 + (i % 3))): Instance => ({
  name: `i${String(i).padStart(5, "0")}`, project: i % 5 === 0 ? "other" : "default", type: "container", architecture: "x86_64", location,
  status: "Running", description: "", config: { "limits.cpu": cpu, "limits.memory": `${1 + (i % 4)}GiB` },
  devices: { root: { type: "disk", path: "/", pool: "default", size: `${10 * (1 + (i % 2))}GiB` } }, profiles: ["default"], created_at: "",
});

/** An in-memory store: instances in (project, name) order, read as Store.listInstanceResources reads them. */
class FakeStore {
  readonly rows = new Map<string, Instance>();
  reads = 0;
  /** Runs before each read with its number (1, 2, ...): writes made while the index loads. */
  beforeRead: (n: number) => void = () => {};
  readonly read: InstanceReader = async (after, limit) => {
    this.beforeRead(++this.reads);
    const sorted = [...this.rows.values()].sort((a, b) => (a.project === b.project ? cmp(a.name, b.name) : cmp(a.project, b.project)));
    const from = after === null ? sorted : sorted.filter((r) => r.project > after.project || (r.project === after.project && r.name > after.name));
    return from.slice(0, limit);
  };
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const members = async () => MEMBERS.map(member);
const usage = (index: SchedulerIndex) => MEMBERS.map((m) => index.view.usage(m));

it("counts, once loaded, what an index loaded from the final state counts, whatever changed during the load", async () => {
  const store = new FakeStore();
  for (let i = 0; i < 9000; i++) { const x = instance(i, MEMBERS[i % 3]); store.rows.set(`${x.project}/${x.name}`, x); }
  const changes = new ClusterChanges();
  const save = (x: Instance) => { store.rows.set(`${x.project}/${x.name}`, x); changes.publish({ kind: "instance", instance: x }); };
  const remove = (x: Instance) => { store.rows.delete(`${x.project}/${x.name}`); changes.publish({ kind: "instance-removed", project: x.project, name: x.name, location: x.location }); };
  store.beforeRead = (n) => {
    if (n === 3) { // the first two reads are in: changes to instances already read and to ones not read yet
      save({ ...instance(1, "n1"), location: "n3" }); // read, moved
      remove(instance(2, "n3")); // read, removed
      save(instance(8999, "n2", "7")); // not read yet, limits changed
      remove(instance(8998, "n1")); // not read yet, removed
    }
    if (n === 6) {
      save(instance(20_000, "n2", "4")); // created (sorts after everything)
      save({ ...instance(7000, "n2"), location: "n1" }); // moved before being read
      save({ ...instance(7000, "n1"), config: { "limits.cpu": "2", "limits.memory": "9GiB" } }); // and then changed
    }
  };

  const index = new SchedulerIndex(new ClusterView(), changes, members, store.read);
  save({ ...instance(3, "n1"), location: "n2" }); // before the load began
  await new Promise((resolve) => setImmediate(resolve));
  expect(store.reads).toBe(0); // not started
  index.start();
  expect(index.loaded).toBe(false);
  await index.ready;
  expect(index.loaded).toBe(true);
  expect(store.reads).toBeGreaterThan(6);

  store.beforeRead = () => {};
  const fresh = new SchedulerIndex(new ClusterView(), new ClusterChanges(), members, store.read);
  fresh.start();
  await fresh.ready;
  expect(usage(index)).toEqual(usage(fresh));
  expect(usage(index).reduce((n, u) => n + (u?.instanceCount ?? 0), 0)).toBe(9000 - 2 + 1);
  expect(index.view.instanceLocation("default/i00001")).toBe("n3");
  expect(index.view.instanceLocation("default/i00003")).toBe("n2");
  expect(index.view.instanceLocation("other/i07000")).toBe("n1");
  expect(index.view.instanceLocation("other/i20000")).toBe("n2");
  expect(index.view.instanceLocation("default/i00002")).toBeUndefined();
  expect(index.view.instanceLocation("default/i08998")).toBeUndefined();

  // Loaded: a change applies at once.
  save(instance(20_001, "n3"));
  expect(index.view.instanceLocation("default/i20001")).toBe("n3");
});

it("stops loading when stopped, reading nothing more", async () => {
  const store = new FakeStore();
  for (let i = 0; i < 10; i++) { const x = instance(i, "n1"); store.rows.set(`${x.project}/${x.name}`, x); }
  const index = new SchedulerIndex(new ClusterView(), new ClusterChanges(), members, store.read);
  index.start();
  index.stop();
  await index.ready;
  expect(store.reads).toBe(0);
  expect(index.loaded).toBe(false);
});
