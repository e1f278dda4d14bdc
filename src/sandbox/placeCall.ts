/**
 * A place call as text through the shared channel, built once on the main thread and forwarded to
 * QuickJS by the worker as it is: "P" \u0001 id \u0001 fresh names (JSON, or nothing) \u0001 the
 * request as the guest sees it (JSON of the request without `resources`, a comma, JSON of the
 * resources). The worker parses none of it: a request used to be stringified on the main thread,
 * parsed by the worker and stringified again for the guest. JSON escapes \u0001, so it can only be
 * a separator. (Posted calls, and test calls, stay plain JSON messages.)
 */
import { resourceRequest } from "../domain/instanceConfig.ts";
import type { ScriptletInstanceResources, ScriptletRequest } from "./types.ts";

const SEP = "\u0001";
const TAG = `P${SEP}`;

function resourcesOf(request: ScriptletRequest): ScriptletInstanceResources {
  if (request.resources) return request.resources;
  const r = resourceRequest({ config: request.config ?? {}, devices: request.devices ?? {} });
  return { cpu_cores: r.cpu, memory_size: r.memory, root_disk_size: r.disk };
}

/** The guest's `request` and get_instance_resources() answer, as two JSON texts joined by a comma. */
export function guestRequestText(request: ScriptletRequest): string {
  const { resources: _omit, ...visible } = request;
  return `${JSON.stringify(visible)},${JSON.stringify(resourcesOf(request))}`;
}

export function encodePlaceCall(id: number, fresh: readonly string[] | null, request: ScriptletRequest): string {
  return `${TAG}${id}${SEP}${fresh ? JSON.stringify(fresh) : ""}${SEP}${guestRequestText(request)}`;
}

export interface PlaceCall {
  id: number;
  fresh: string[] | null;
  request: string; // guestRequestText
}

/** The parts of an encodePlaceCall text, or null when `text` is not one (then it is a JSON message). */
export function decodePlaceCall(text: string): PlaceCall | null {
  if (!text.startsWith(TAG)) return null;
  const a = text.indexOf(SEP, TAG.length);
  const b = text.indexOf(SEP, a + 1);
  const fresh = text.slice(a + 1, b);
  return { id: Number(text.slice(TAG.length, a)), fresh: fresh === "" ? null : (JSON.parse(fresh) as string[]), request: text.slice(b + 1) };
}
