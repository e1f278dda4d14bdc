/**
 * describe() for a suite that needs real LXD daemons (lxdHosts.ts): without LXD (Debian packages
 * lxd and busybox-static, and root) the suite skips with a loud warning; under CI=true it is a
 * failing test instead (.ci/run installs both).
 */
import { describe, it } from "vitest";
import { lxdMissing } from "./lxdHosts.ts";

const IN_CI = !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());

export function describeWithLxd(name: string, body: () => void): void {
  const missing = lxdMissing();
  if (!missing) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      it("needs LXD", () => {
        throw new Error(`${missing}; .ci/run installs lxd and busybox-static with apt-get. CI must run these tests.`);
      });
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPED "${name}": ${missing} ***\n\n`);
  describe.skip(name, body);
}

