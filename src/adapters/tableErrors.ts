// What Table Storage's errors mean, read from the service's own error code.

import type { RestError } from "@azure/core-rest-pipeline";

/**
 * The service's error code: the SDK leaves `RestError.code` unset for many answers and keeps the
 * service's own code in `details.errorCode` (or only in the body's `odata.error`).
 */
export function errorCodeOf(error: RestError): string | undefined {
  const details = error.details as { errorCode?: unknown; odataError?: { code?: unknown } } | undefined;
  const code = error.code ?? details?.errorCode ?? details?.odataError?.code;
  if (typeof code === "string") return code;
  return /TableNotFound|TableBeingDeleted/.exec(error.message)?.[0];
}

/** A 404 for the table itself, not for an entity in it. */
export function isTableMissing(error: RestError): boolean {
  return error.statusCode === 404 && errorCodeOf(error) === "TableNotFound";
}
