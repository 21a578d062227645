import createClient, { type Middleware } from "openapi-fetch";
import type { components as IngestionComponents, paths as IngestionPaths } from "./alert-ingestion";
import type { components as IncidentComponents, paths as IncidentPaths } from "./incident-management";
import type { components as OncallComponents, paths as OncallPaths } from "./oncall";

export type Silence = IngestionComponents["schemas"]["GettableSilence"];
export type PostableSilence = IngestionComponents["schemas"]["PostableSilence"];
export type GroupingRule = IngestionComponents["schemas"]["GroupingRulePublic"];
export type GroupingRuleCreate = IngestionComponents["schemas"]["GroupingRuleCreate"];
export type Role = IncidentComponents["schemas"]["Role"];
export type Incident = IncidentComponents["schemas"]["IncidentPublic"];
export type IncidentDetail = IncidentComponents["schemas"]["IncidentDetail"];
export type IncidentStatus = IncidentComponents["schemas"]["IncidentStatus"];
export type Severity = IncidentComponents["schemas"]["Severity"];
export type Schedule = OncallComponents["schemas"]["SchedulePublic"];
export type Shift = OncallComponents["schemas"]["ShiftPublic"];
export type User = OncallComponents["schemas"]["UserPublic"];
export type EscalationPolicy = OncallComponents["schemas"]["EscalationPolicyPublic"];
export type EscalationPolicyModel = OncallComponents["schemas"]["EscalationPolicyModel"];

/** One typed client per service; the web server (or Vite in development) routes each path. */
export function createApi(token: string) {
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  const baseUrl = window.location.origin;
  const ingestion = createClient<IngestionPaths>({ baseUrl });
  const incidents = createClient<IncidentPaths>({ baseUrl });
  const oncall = createClient<OncallPaths>({ baseUrl });
  for (const client of [ingestion, incidents, oncall]) client.use(bearer);
  return { token, ingestion, incidents, oncall };
}

export type Api = ReturnType<typeof createApi>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The human-readable part of a FastAPI error body: a string, a {message} or field errors. */
export function describeError(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((item: unknown) => {
          const { loc, msg } = item as { loc?: unknown[]; msg?: string };
          const field = (loc ?? []).filter((part) => part !== "body").join(".");
          return field ? `${field}: ${msg ?? "invalid"}` : (msg ?? "invalid");
        })
        .join("; ");
    }
    if (detail && typeof detail === "object" && "message" in detail) {
      return String(detail.message);
    }
  }
  return `request failed with status ${status}`;
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call, or an ApiError carrying the status and the server's words. */
export function must<T>(result: FetchResult<T>): T {
  if (!result.response.ok) {
    throw new ApiError(
      result.response.status,
      describeError(result.error, result.response.status),
      result.error,
    );
  }
  return result.data as T;
}
