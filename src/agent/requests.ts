/**
 * What the service asks of the agent, riding the long-poll's answer (agents open no port): an
 * instance's recent log, and the lxd driver's migration handshake. Each request is answered once
 * (POST .../answers/{id}); one whose answer failed is tried again when the poll lists it again.
 */
import type { Logger } from "pino";
import { toError } from "../domain/errors.ts";
import type { AgentClient } from "./client.ts";
import type { Driver } from "./drivers/driver.ts";
import { instanceKey, type AgentAnswer, type AgentRequest, type DesiredInstance, type MigrationOffer } from "./protocol.ts";
import { sleep } from "./sleep.ts";

export interface RequestDeps {
  client: AgentClient;
  driver: Driver;
  log: Logger;
  /** The agent's stop. */
  signal: AbortSignal;
  /** Instances some work holds (the agent's): a migration in waits for its instance, then holds it. */
  busy: Set<string>;
}

export class RequestAnswerer {
  private readonly answered = new Set<string>();

  constructor(private readonly deps: RequestDeps) {}

  /** Answers each listed request not answered yet; forgets the ones no longer listed. */
  answer(requests: AgentRequest[]): void {
    const listed = new Set(requests.map((r) => r.id));
    for (const id of this.answered) if (!listed.has(id)) this.answered.delete(id);
    for (const request of requests) {
      if (this.answered.has(request.id)) continue;
      this.answered.add(request.id);
      void this.answerOne(request).catch((err: unknown) => {
        this.answered.delete(request.id); // asked again with the next answer of the poll
        this.deps.log.warn({ err: toError(err).message, request: request.id }, "answering a request failed");
      });
    }
  }

  private async answerOne(request: AgentRequest): Promise<void> {
    const { driver, client, signal } = this.deps;
    switch (request.kind) {
      case "log":
        await client.answer(request, { log: await driver.log(request) }, signal);
        return;
      case "migrate-out":
      case "migrate-in": {
        // The LXD migration handshake (lxd driver): failures are answered, so the move fails at once with the reason.
        let answer: AgentAnswer;
        try {
          if (request.kind === "migrate-out") {
            if (!driver.migrateOut) throw new Error(`the ${driver.name} driver cannot migrate instances`);
            answer = { offer: await driver.migrateOut(request) };
          } else {
            if (!driver.migrateIn || !request.instance || !request.offer) throw new Error(`the ${driver.name} driver cannot migrate instances in, or the request lacks the instance or the offer`);
            await this.migrateIn(request.instance, request.offer);
            answer = {};
          }
        } catch (err) {
          answer = { error: toError(err).message };
          this.deps.log.warn({ request: request.kind, instance: instanceKey(request), err: answer.error }, "migration step failed");
        }
        await client.answer(request, answer, signal);
        return;
      }
      default:
        this.deps.log.warn({ request: request.id, kind: (request as AgentRequest).kind }, "ignoring a request of an unknown kind");
    }
  }

  /** Pulls an instance in while holding it busy, so reconcile does not start creating it from its image meanwhile. */
  private async migrateIn(instance: DesiredInstance, offer: MigrationOffer): Promise<void> {
    const { busy, signal, driver } = this.deps;
    const key = instanceKey(instance);
    while (busy.has(key)) await sleep(100, signal);
    busy.add(key);
    try {
      await driver.migrateIn!(instance, offer);
    } finally {
      busy.delete(key);
    }
  }
}
