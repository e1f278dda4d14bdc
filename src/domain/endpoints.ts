/** Where a running service can be reached: known once it listens (src/cli/serve.ts), empty for a service without listeners (tests). */
export interface ServiceEndpoints {
  /**
   * URLs a joining agent uses, best first: https:// of every HTTPS listener (a wildcard address
   * expanded to this machine's addresses), or, when the service listens only on loopback over
   * plain HTTP, those http:// URLs.
   */
  urls: string[];
  /** host:port of every listener, as LXD's environment.addresses. */
  addresses: string[];
}

export const NO_ENDPOINTS: ServiceEndpoints = { urls: [], addresses: [] };
