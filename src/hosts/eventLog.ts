// The one mapping from core events to log lines, for every host: which level, which fields, which
// message. Hosts supply a sink (pino for the Node host, the Functions log for the Functions host).

import type { CloseEvent, TripEvent } from "../core/breakers/breakerBoard";
import type { TripSharingLog } from "../core/breakers/tripSharing";
import { noDeployment, type TripScope, wholeBackend } from "../core/breakers/tripStore";
import type { UsageSharingLog } from "../core/clients/usageSharing";
import type { CallSummary, RouterEvents } from "../core/events";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/** Where log lines go: structured fields and a short message. */
export type LogSink = Record<LogLevel, (fields: LogFields, message: string) => void>;

/** A trip's scope as log fields: `scope` says which calls it stops, `deployment` names the deployment at the backend. */
function scopeFields(scope: TripScope): { scope: "backend" | "noDeployment" | "deployment"; deployment: string | null } {
  if (scope === wholeBackend) return { scope: "backend", deployment: null };
  if (scope === noDeployment) return { scope: "noDeployment", deployment: null };
  return { scope: "deployment", deployment: scope };
}

function where(backend: string, scope: TripScope): string {
  return scope === wholeBackend || scope === noDeployment ? backend : `${backend}/${scope}`;
}

export function routerEventLog(sink: LogSink): RouterEvents {
  return {
    breakerOpened: (e: TripEvent) =>
      sink.warn(
        {
          event: "breakerOpened",
          backend: e.backend,
          ...scopeFields(e.scope),
          openUntil: new Date(e.openUntil).toISOString(),
          reason: e.reason,
          status: e.lastStatus ?? null,
          source: e.source,
        },
        `${where(e.backend, e.scope)} tripped (${e.reason}, ${e.source})`,
      ),
    breakerClosed: (e: CloseEvent) =>
      sink.info(
        { event: "breakerClosed", backend: e.backend, ...scopeFields(e.scope), at: new Date(e.at).toISOString() },
        `${where(e.backend, e.scope)} back in service`,
      ),
    attemptFailed: (e) => sink.debug({ event: "attemptFailed", ...e }, `attempt ${e.attempt} on ${e.backend} failed (${e.reason})`),
    poolExhausted: (e) =>
      sink.warn({ event: "poolExhausted", ...e }, `no backend could take a call${e.deployment ? ` for ${e.deployment}` : ""}`),
    unexpectedError: (error) =>
      sink.error(
        { event: "unexpectedError", message: error instanceof Error ? (error.stack ?? error.message) : String(error) },
        "unexpected error; answered 500",
      ),
  };
}

export function sharedStateLog(sink: LogSink): TripSharingLog {
  return {
    lost: (error) =>
      sink.warn(
        { event: "stateStoreLost", message: error instanceof Error ? error.message : String(error) },
        "shared state store unreachable; routing on local state",
      ),
    restored: () => sink.info({ event: "stateStoreRestored" }, "shared state store reachable again"),
    badRow: (dropped) =>
      sink.warn(
        { event: "stateRowIgnored", dropped },
        `ignored ${dropped} shared-state entries that failed the schema; the next write repairs the row`,
      ),
  };
}

export function clientLimiterLog(sink: LogSink): UsageSharingLog {
  return {
    degraded: (error, instances) =>
      sink.warn(
        { event: "clientLimitsDegraded", instances, message: error instanceof Error ? error.message : String(error) },
        `client usage cannot be shared; each client held to 1/${instances} of its limits on this instance`,
      ),
    restored: () => sink.info({ event: "clientLimitsRestored" }, "client usage shared again; limits hold for the whole router"),
  };
}

/** The level of a call's line: warnings for what an operator should look at. */
export function callLevel(summary: CallSummary): LogLevel {
  return summary.outcome === "broken" || summary.outcome === "streamError" || summary.status >= 500 ? "warn" : "info";
}

export function callFields(summary: CallSummary, extra: LogFields = {}): LogFields {
  return { event: "call", ...extra, ...summary };
}

export function callMessage(summary: CallSummary): string {
  return `${summary.method} ${summary.path} ${summary.status} ${summary.outcome}`;
}
