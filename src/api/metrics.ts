/** /1.0/metrics in Prometheus text format: members, instances, operations, HTTP traffic. */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { MEMBER_STATUSES } from "../domain/types.ts";
import type { Services } from "./services.ts";

export interface Metrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  /** Counts one answered request and its latency (the middleware, and paths that bypass hono). */
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(s: Services): Metrics {
  const registry = new Registry();
  new Gauge({
    name: "berth_members", help: "Cluster members by status", labelNames: ["status"], registers: [registry],
    async collect() {
      const counts = new Map<string, number>(MEMBER_STATUSES.map((st) => [st, 0]));
      const members = await s.members.list();
      this.reset();
      for (const m of members) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  new Gauge({
    name: "berth_instances", help: "Instances by status and member", labelNames: ["status", "member"], registers: [registry],
    async collect() {
      const rows = await s.store.countInstancesByLocationAndStatus();
      this.reset();
      for (const row of rows) this.set({ status: row.status, member: row.location }, row.n);
    },
  });
  new Gauge({
    name: "berth_operations", help: "Operations by status", labelNames: ["status"], registers: [registry],
    async collect() {
      const rows = await s.store.countOperationsByStatus();
      this.reset();
      for (const row of rows) this.set({ status: row.status }, row.n);
    },
  });
  new Gauge({
    name: "berth_heals", help: "Heals of offline members since start: started, succeeded, failed, held_back (partition guard)",
    labelNames: ["outcome"], registers: [registry],
    collect() {
      const stats = s.healing.stats();
      this.reset();
      this.set({ outcome: "started" }, stats.started);
      this.set({ outcome: "succeeded" }, stats.succeeded);
      this.set({ outcome: "failed" }, stats.failed);
      this.set({ outcome: "held_back" }, stats.heldBack);
    },
  });
  new Gauge({
    name: "berth_heal_offline_to_healed_seconds", help: "Seconds from a member's last heartbeat to the end of its heal, for the last heal",
    registers: [registry],
    collect() {
      const times = s.healing.stats().offlineToHealed;
      this.set(times.length > 0 ? times[times.length - 1] : 0);
    },
  });
  new Gauge({
    name: "berth_events_emitted", help: "Events emitted since start, by kind", labelNames: ["kind"], registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of s.bus.emittedCounts()) this.set({ kind }, n);
    },
  });
  new Gauge({
    name: "berth_replica_leader", help: "1 while this replica holds the leadership (several replicas on PostgreSQL), else 0",
    registers: [registry],
    collect() {
      this.set(s.replicas?.role() === "leader" ? 1 : 0);
    },
  });
  new Gauge({
    name: "berth_replica_lease_changes", help: "Times this replica took or lost the leadership since it started",
    registers: [registry],
    collect() {
      this.set(s.replicas?.leaseChanges() ?? 0);
    },
  });
  new Gauge({
    name: "berth_replica_resyncs", help: "Times this replica re-read everything from the store because a replica disappeared or the leadership changed hands",
    registers: [registry],
    collect() {
      this.set(s.replicas?.resyncs() ?? 0);
    },
  });
  new Gauge({
    name: "berth_replica_lease_epoch", help: "The leadership epoch this replica last saw (grows with each new leader)",
    registers: [registry],
    collect() {
      this.set(s.replicas?.epoch() ?? 0);
    },
  });
  const requests = new Counter({
    name: "berth_http_requests_total", help: "HTTP requests", labelNames: ["method", "route", "status"], registers: [registry],
  });
  const latency = new Histogram({
    name: "berth_http_request_duration_seconds", help: "HTTP request latency", labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  // prom-client hashes a label set on every call: keep each set's child (there are a few dozen).
  const counted = new Map<string, { inc: () => void }>();
  const timed = new Map<string, { observe: (seconds: number) => void }>();
  const observe = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${route}`;
    let timer = timed.get(key);
    if (!timer) timed.set(key, (timer = latency.labels(method, route)));
    timer.observe(seconds);
    const keyed = `${key} ${status}`;
    let counter = counted.get(keyed);
    if (!counter) counted.set(keyed, (counter = requests.labels(method, route, String(status))));
    counter.inc();
  };
  const middleware: MiddlewareHandler = async (c, next) => {
    const start = performance.now();
    await next();
    const path = routePath(c); // after next(): the route that answered
    const route = path && path !== "/*" && path !== "*" ? path : "unmatched";
    if (route === "/1.0/events") return; // a stream, not a request with a latency
    observe(c.req.method, route, c.res.status, (performance.now() - start) / 1000);
  };
  return { registry, middleware, observe };
}
