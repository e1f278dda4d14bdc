/** Berth's version, shown by the service (GET /1.0) and sent by agents in their heartbeats. */
export const VERSION = "0.1.0";
