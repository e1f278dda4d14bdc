/**
 * The floor under the sandbox, for bench/scriptlet: the scriptlet itself run by QuickJS on data
 * already inside the guest (deep-frozen members and instances; lists copied per call as the helpers
 * copy them; helpers as plain guest functions), with no worker, no host crossing, no argument passing. What the sandbox
 * costs above this is its plumbing; this much is the interpreter running the policy.
 * (QuickJS on the main thread is fine here: the code is a flat loop, far from any stack limit.)
 */
import { setFlagsFromString } from "node:v8";
import { newQuickJSWASMModuleFromVariant, RELEASE_SYNC } from "quickjs-emscripten";
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";
import type { ReplicaSnapshot } from "../src/sandbox/types.ts";

const GUEST = String.raw`
const freezeNode = (k, v) => (typeof v === "object" && v !== null ? Object.freeze(v) : v);
const members = JSON.parse(MEMBERS, freezeNode);
const projectInstances = JSON.parse(INSTANCES, freezeNode).filter((i) => i.project === PROJECT);
const rotations = Array.from({ length: 16 }, (_, r) => members.slice(r).concat(members.slice(0, r)));
let logs = [];
let target = null;

// The §4 helpers the scriptlet uses, answered from the data above with nothing but guest code.
function get_instances_count(o) { return projectInstances.length; } // nothing is pending in the bench cluster
function get_instances(o) { return projectInstances.slice(); }
function get_cluster_members(o) { return members.slice(); }
function log_info(...args) { logs.push(["info", args.join("")]); }
function set_target(name) { target = name; }

/*SCRIPTLET*/

(function bench(count, rerank, k) {
  let first = null;
  for (let i = 0; i < count; i++) {
    logs = [];
    target = null;
    instance_placement({ name: "bench", project: PROJECT }, rerank ? rotations[(k + i) % 16].slice() : members.slice());
    if (i === 0) first = target;
  }
  return first;
})`;

export class QuickJSFloor {
  private constructor(private readonly ctx: QuickJSContext, private readonly bench: QuickJSHandle) {}

  static async create(snap: ReplicaSnapshot, project: string, scriptlet: string): Promise<QuickJSFloor> {
    setFlagsFromString("--wasm-inlining"); // as the sandbox workers do (src/sandbox/worker.ts)
    const module = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
    const ctx = module.newContext();
    const source = `const MEMBERS = ${JSON.stringify(JSON.stringify(snap.members))};
      const INSTANCES = ${JSON.stringify(JSON.stringify(snap.instances))};
      const PROJECT = ${JSON.stringify(project)};
      ${GUEST.replace("/*SCRIPTLET*/", () => scriptlet)}`;
    const bench = ctx.unwrapResult(ctx.evalCode(source, "floor.js"));
    return new QuickJSFloor(ctx, bench);
  }

  /** Runs `count` placements in the guest (ranking k, k+1... when rerank); the first one's target. */
  run(count: number, rerank: boolean, k: number): string | null {
    const { ctx } = this;
    const args = [ctx.newNumber(count), rerank ? ctx.true : ctx.false, ctx.newNumber(k)];
    const result = ctx.unwrapResult(ctx.callFunction(this.bench, ctx.undefined, args));
    args[0].dispose();
    args[2].dispose();
    return result.consume((h) => (ctx.typeof(h) === "string" ? ctx.getString(h) : null));
  }

  dispose(): void {
    this.bench.dispose();
    this.ctx.dispose();
  }
}
