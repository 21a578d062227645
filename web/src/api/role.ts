import { ApiError, describeError, type Api, type Role } from "./client";

/**
 * The role of a token, found with calls that change nothing: a read any token may do
 * (401 means the token is wrong), an admin-only read, then a responder-only write aimed at
 * incident 0, which does not exist: a viewer is refused (403) before the lookup happens.
 */
export async function probeRole(api: Api): Promise<Role> {
  const read = await api.incidents.GET("/api/v1/incidents", { params: { query: { limit: 1 } } });
  if (read.response.status === 401) {
    throw new ApiError(401, "That API token is not valid.");
  }
  if (!read.response.ok) {
    throw new ApiError(read.response.status, describeError(read.error, read.response.status));
  }
  const tokens = await api.incidents.GET("/api/v1/tokens");
  if (tokens.response.ok) return "admin";
  const write = await api.incidents.PATCH("/api/v1/incidents/{incident_id}", {
    params: { path: { incident_id: 0 } },
    body: {},
  });
  return write.response.status === 403 ? "viewer" : "responder";
}
