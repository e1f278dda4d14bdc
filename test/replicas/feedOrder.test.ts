/**
 * The feed is read in id order ("entries after the last one applied"), so an entry must never
 * become visible after a higher id was: two replicas appending at once, one of them as the leader
 * (its appends are fenced transactions, several round trips between taking an id and committing),
 * while a third reads the feed as a follower does. Every entry the writers appended reaches the
 * reader; none is skipped.
 */
import { expect, it } from "vitest";
import { PgStore } from "../../src/store/pg/pgStore.ts";
import { asLeader, type ReplicaChannel } from "../../src/store/store.ts";
import { describeWithPostgres } from "../support/postgres.ts";
import { postgresForFile } from "./inProcess.ts";

const PER_WRITER = 400;

describeWithPostgres("the replicas' feed", () => {
  const pg = postgresForFile();

  it("is read in commit order: a follower reading while two replicas append misses nothing", async () => {
    const url = await pg.database();
    const open = async (): Promise<ReplicaChannel> => pg.closeAfter(await (pg.closeAfter(await PgStore.open({ url }))).openChannel());
    const [leader, other, reader] = [await open(), await open(), await open()];
    expect(await leader.tryLead("a")).toBe(1);
    const fence = { epoch: 1, lost: () => {} };

    let writing = true;
    const seen: number[] = [];
    const read = (async () => {
      let applied = 0;
      for (;;) {
        const done = !writing; // one more read after the writers end
        for (const entry of await reader.after(applied, 500)) {
          seen.push(entry.id);
          applied = entry.id;
        }
        if (done) return;
      }
    })();
    // Each writer appends one entry at a time, as a replica does (its appends are chained).
    const write = async (channel: ReplicaChannel, origin: string) => {
      for (let i = 0; i < PER_WRITER; i++) await channel.append(origin, [{ kind: "event", body: { origin, i } }]);
    };
    await Promise.all([asLeader(fence, () => write(leader, "a")), write(other, "b"), write(other, "c")]);
    writing = false;
    await read;

    const all = await reader.after(0, 10 * PER_WRITER);
    expect(all).toHaveLength(3 * PER_WRITER);
    const skipped = all.map((e) => e.id).filter((id) => !seen.includes(id));
    expect(skipped, `${skipped.length} entries the reader never saw`).toEqual([]);
  }, 120_000);
});
