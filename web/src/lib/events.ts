/** The incident an event-stream message is about: `{"id": ...}`, `{"incident_id": ...}` or `{"incident": {"id": ...}}`. */
export function incidentIdOf(data: string): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object") return null;
  const record = parsed as Record<string, unknown>;
  for (const candidate of [record.incident_id, record.id, (record.incident as Record<string, unknown> | undefined)?.id]) {
    if (typeof candidate === "number" && Number.isInteger(candidate)) return candidate;
  }
  return null;
}
