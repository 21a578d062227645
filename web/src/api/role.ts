import { ApiError, describeError, type Api, type Role } from "./client";

export interface Identity {
  /** The token's name: who created a silence, as the server will record it. */
  name: string;
  role: Role;
}

/** Who a token is and its role, from `GET /api/v1/whoami`; a 401 means the token is wrong. */
export async function fetchIdentity(api: Api): Promise<Identity> {
  const result = await api.incidents.GET("/api/v1/whoami");
  if (result.response.status === 401) {
    throw new ApiError(401, "That API token is not valid.");
  }
  if (!result.data) {
    throw new ApiError(result.response.status, describeError(result.error, result.response.status));
  }
  return { name: result.data.name, role: result.data.role };
}
