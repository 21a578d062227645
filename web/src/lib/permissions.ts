import type { IncidentStatus, Role } from "../api/client";

const RANK: Record<Role, number> = { viewer: 0, responder: 1, admin: 2 };

export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

export type Transition = "acknowledge" | "resolve" | "reopen";

/** Mirrors incident/lifecycle.py: which transitions the server will accept from a status. */
const LEGAL: Record<IncidentStatus, Transition[]> = {
  triggered: ["acknowledge", "resolve"],
  acknowledged: ["resolve"],
  resolved: ["reopen"],
};

export function availableTransitions(status: IncidentStatus, role: Role): Transition[] {
  return roleAllows(role, "responder") ? LEGAL[status] : [];
}
