/** The incident an `incident` event is about: its data is the incident, `{"id": ...}`. */
export function incidentIdOf(data: string): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object" || !("id" in parsed)) return null;
  const { id } = parsed;
  return typeof id === "number" && Number.isInteger(id) ? id : null;
}
