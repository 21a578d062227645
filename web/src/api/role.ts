import { ApiError, describeError, type Api, type Role } from "./client";

/** The role of a token, from `GET /api/v1/whoami`; a 401 means the token is wrong. */
export async function fetchRole(api: Api): Promise<Role> {
  const result = await api.incidents.GET("/api/v1/whoami");
  if (result.response.status === 401) {
    throw new ApiError(401, "That API token is not valid.");
  }
  if (!result.data) {
    throw new ApiError(result.response.status, describeError(result.error, result.response.status));
  }
  return result.data.role;
}
