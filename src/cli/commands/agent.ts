/** `berth agent`: run this machine as a member of a Berth cluster (src/agent, docs/agents.md). */
import type { Command } from "commander";
import type { AgentFlags } from "../../agent/agentConfig.ts";
import { Option } from "../commander.ts";

interface AgentCommandOptions {
  join?: string;
  name?: string;
  data: string;
  driver?: string;
  hooks?: string;
  lxdSocket?: string;
  pool: string[];
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("Run this machine as a cluster member: heartbeats, desired state, instances run by a driver")
    .option("--join <token>", "a join token from `berth cluster add NAME` (first start): trusts only its certificate and trades it for this member's credential")
    .option("--name <member>", "the member this machine is (first start)")
    .option("--data <dir>", "the agent's data directory (BERTH_AGENT_DATA)", process.env.BERTH_AGENT_DATA ?? "./agent-data")
    .addOption(new Option("--driver <driver>", "how instances run (stored; default none)").choices(["none", "process", "hook", "lxd"]))
    .option("--hooks <dir>", "the hook driver's directory of executables start, stop, status")
    .option("--lxd-socket <path>", "the lxd driver's LXD unix socket (stored; default LXD_SOCKET, $LXD_DIR/unix.socket, or LXD's usual places)")
    .addOption(
      new Option("--pool <name=path>", "a storage pool and a directory on its filesystem (repeatable; stored)")
        .argParser((value: string, all: string[]) => [...all, value])
        .default([], "default=<data>"),
    )
    .addHelpText("after", "\nThe first start needs --join TOKEN, or --url (the service), --token (this member's agent credential) and --name;\nthey are stored in <data>/credential, and later starts need only --data.")
    .action(async (opts: AgentCommandOptions, cmd: Command) => {
      // --url and --token are the program's own options, given before or after "agent".
      const globals = cmd.optsWithGlobals<{ url?: string; token?: string }>();
      const { runAgent, joinWithToken } = await import("../../agent/run.ts");
      let flags: AgentFlags = { data: opts.data, url: globals.url, token: globals.token, name: opts.name, driver: opts.driver, hooks: opts.hooks, lxdSocket: opts.lxdSocket, pool: opts.pool };
      if (opts.join) flags = await joinWithToken(opts.join, flags);
      await runAgent(flags);
    });
}
