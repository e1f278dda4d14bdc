/**
 * `lxc remote add` over HTTPS with a trust token (issue 14, point 6): the real lxc (LXD 5.0.2)
 * against a real `berth serve --tls` on loopback. The token comes from `berth trust add` (the CLI
 * as a child process) and from `lxc config trust add` itself; lxc checks the service's certificate
 * against the token's fingerprint, sends the token with its own client certificate, and from then
 * on is trusted as admin. Each lxc client has its own LXD_CONF under the harness's temp directory.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import YAML from "yaml";
import { decodeTrustToken } from "../../src/domain/trustToken.ts";
import { certificateFingerprint } from "../../src/net/certificate.ts";
import { describeWithLxc, startLxcHarness, type LxcHarness } from "./lxcHarness.ts";

const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));
let h: LxcHarness;
let laptopConf: string;
let ciConf: string;

/** `berth ARGS` as a child process against the service's HTTPS listener, as its admin. */
function berth(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, BERTH_URL: `https://${h.address}`, BERTH_TOKEN: "lxc-suite-token", BERTH_DATA: h.data };
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`berth ${args.join(" ")}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The token line of `berth trust add` / `lxc config trust add -q` output. */
const tokenIn = (output: string) => output.split("\n").find((line) => /^[A-Za-z0-9+/]{40,}={0,2}$/.test(line.trim()))!.trim();

describeWithLxc("lxc remote add over HTTPS with a trust token", () => {
  beforeAll(async () => {
    h = await startLxcHarness({ tls: true });
    laptopConf = join(h.dir, "laptop-conf");
    ciConf = join(h.dir, "ci-conf");
    await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600 } });
    for (const name of ["node1", "node2"]) await h.addMember(name);
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  it("berth trust add → lxc remote add: the token carries the service's fingerprint and HTTPS address; lxc is then trusted", async () => {
    const token = tokenIn(await berth(["trust", "add", "laptop", "--expiry", "1h"]));
    const fingerprint = (await h.api("GET", "/1.0")).environment.certificate_fingerprint;
    expect(decodeTrustToken(token)).toMatchObject({ client_name: "laptop", fingerprint, addresses: [h.address] });

    await h.ok(["remote", "add", "berth", token], "", laptopConf);
    const remotes = await h.ok(["remote", "list", "--format", "csv"], "", laptopConf);
    expect(remotes).toContain(`berth,https://${h.address},lxd,tls,NO,NO`);
    // lxc kept the service certificate it checked against the token's fingerprint.
    expect(certificateFingerprint(readFileSync(join(laptopConf, "servercerts", "berth.crt")))).toBe(fingerprint);

    const info = YAML.parse(await h.ok(["info", "berth:"], "", laptopConf));
    expect(info).toMatchObject({ auth: "trusted", environment: { server: "berth", certificate_fingerprint: fingerprint } });
  }, 120_000);

  it("the trusted remote drives Berth: cluster list, init --empty, list, config trust list", async () => {
    const members = await h.ok(["cluster", "list", "berth:", "--format", "csv"], "", laptopConf);
    expect(members.trim().split("\n").map((line) => line.split(",")[0]).sort()).toEqual(["node1", "node2"]);
    expect(members).toContain("ONLINE");

    expect(await h.ok(["init", "--empty", "berth:c1", "--target", "node2"], "", laptopConf)).toContain("Creating c1");
    expect(await h.ok(["list", "berth:", "--format", "csv", "-c", "nsL"], "", laptopConf)).toBe("c1,STOPPED,node2\n");
    expect((await h.api("GET", "/1.0/instances/c1")).location).toBe("node2");

    const trust = await h.ok(["config", "trust", "list", "berth:"], "", laptopConf);
    const laptop = (await h.api("GET", "/1.0/certificates?recursion=1"))[0];
    expect(laptop.name).toBe("laptop");
    // TYPE, NAME, COMMON NAME (lxc's client certificate is user@host), FINGERPRINT (12 digits)
    expect(trust).toMatch(new RegExp(`\\|\\s*client\\s*\\|\\s*laptop\\s*\\|\\s*\\S+@\\S+\\s*\\|\\s*${laptop.fingerprint.slice(0, 12)}\\s*\\|`));

    // A trusted client is admin: it makes trust tokens for others over HTTPS too. (lxc 5.0.2 reads
    // `config trust add REMOTE:` as a certificate file named REMOTE:, so the remote is made the default.)
    await h.ok(["remote", "switch", "berth"], "", laptopConf);
    const printed = await h.ok(["config", "trust", "add", "--name", "spare", "-q"], "", laptopConf);
    await h.ok(["remote", "switch", "local"], "", laptopConf);
    expect(decodeTrustToken(tokenIn(printed))).toMatchObject({ client_name: "spare", addresses: [h.address] });
    expect((await h.api("GET", "/1.0/trust-tokens?recursion=1")).filter((t: any) => t.name === "spare" && t.status === "valid")).toHaveLength(1);
  }, 120_000);

  it("a token from lxc config trust add (over the socket, as lxc makes it) adds a second client; a used or foreign token is refused", async () => {
    const printed = await h.ok(["config", "trust", "add", "--name", "ci"]);
    expect(printed).toMatch(/^Client ci certificate add token:\n/);
    const token = tokenIn(printed);
    await h.ok(["remote", "add", "berth", token], "", ciConf);
    expect(YAML.parse(await h.ok(["info", "berth:"], "", ciConf)).auth).toBe("trusted");

    // The same token again, from a third client: refused, saying why; nothing is added.
    const thirdConf = join(h.dir, "third-conf");
    expect(await h.fails(["remote", "add", "berth", token], thirdConf)).toMatch(/Failed to create certificate: This trust token was already used at .*: a trust token works once/);
    const decoded = decodeTrustToken(token);
    const foreign = Buffer.from(JSON.stringify({ ...decoded, secret: "A".repeat(43) })).toString("base64");
    expect(await h.fails(["remote", "add", "berth", foreign], thirdConf)).toContain("No matching trust token: this service never issued it");
    // A token whose fingerprint is not the service's: lxc (which has not seen the service yet) refuses before sending the secret.
    const impostor = Buffer.from(JSON.stringify({ ...decoded, fingerprint: "0".repeat(64) })).toString("base64");
    expect(await h.fails(["remote", "add", "berth", impostor], join(h.dir, "fourth-conf"))).toContain("Certificate fingerprint mismatch between certificate token and server");
    expect((await h.api("GET", "/1.0/certificates")).length).toBe(2);
  }, 120_000);

  it("an untrusted client is refused; a removed certificate no longer works", async () => {
    // A client with the remote and the service's certificate, but a client certificate of its own
    // that nobody trusted: the third client of the test above (its remote add was refused), given
    // the laptop's remote list.
    const strangerConf = join(h.dir, "third-conf");
    expect(existsSync(join(strangerConf, "client.crt"))).toBe(true);
    copyFileSync(join(laptopConf, "config.yml"), join(strangerConf, "config.yml"));
    const stranger = certificateFingerprint(readFileSync(join(strangerConf, "client.crt")));
    expect(await h.fails(["list", "berth:"], strangerConf)).toContain(`This client certificate (fingerprint ${stranger}) is not trusted`);
    expect(YAML.parse(await h.ok(["info", "berth:"], "", strangerConf)).auth).toBe("untrusted");

    // The ci client removes the laptop's certificate (by the 12-digit prefix lxc shows).
    const laptop = (await h.api("GET", "/1.0/certificates?recursion=1")).find((c: any) => c.name === "laptop");
    await h.ok(["config", "trust", "remove", `berth:${laptop.fingerprint.slice(0, 12)}`], "", ciConf);
    expect(await h.fails(["list", "berth:"], laptopConf)).toContain(`This client certificate (fingerprint ${laptop.fingerprint}) is not trusted`);
    expect(await h.fails(["init", "--empty", "berth:c2"], laptopConf)).toContain("is not trusted");
    expect(await h.ok(["config", "trust", "list", "berth:", "--format", "csv"], "", ciConf)).toMatch(/^client,ci,/);
    expect((await h.api("GET", "/1.0/instances")).length).toBe(1);
  }, 120_000);
});
