/** Progress messages of moves, in the DESIGN §5 form, shared by evacuation, restore and relocation. */
import type { Instance } from "./types.ts";

/** Progress messages in the §5 form. */
export const progress = {
  stopping: (i: Instance) => `Stopping "${i.name}" in project "${i.project}"`,
  migrating: (i: Instance, target: string) => `Migrating "${i.name}" in project "${i.project}" to "${target}"`,
  starting: (i: Instance) => `Starting "${i.name}" in project "${i.project}"`,
};
