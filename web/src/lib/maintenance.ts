/** Maintenance windows: a silence whose only matcher is `service="<name>"`. */

import type { Matcher } from "./matchers";

export interface SilenceLike {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  status: { state: "pending" | "active" | "expired" };
}

export interface Maintenance {
  service: string;
  endsAt: string;
  /** Every silence that keeps the service in maintenance; ending maintenance expires them all. */
  silenceIds: string[];
}

/** The service a silence puts in maintenance, or null: exactly one plain equality matcher on
 * `service`. A silence that narrows further (service and severity, say) is not maintenance. */
export function maintenanceServiceOf(silence: Pick<SilenceLike, "matchers">): string | null {
  if (silence.matchers.length !== 1) return null;
  const [only] = silence.matchers;
  if (!only || only.name !== "service" || only.isRegex || !only.isEqual) return null;
  return only.value;
}

/** Services in maintenance at `now`, from the silences as the server listed them: an active
 * silence that has not ended by `now` (the list may be a little old), the latest end first. */
export function servicesInMaintenance(silences: SilenceLike[], now: number): Map<string, Maintenance> {
  const byService = new Map<string, Maintenance>();
  for (const silence of silences) {
    if (silence.status.state !== "active" || Date.parse(silence.endsAt) <= now) continue;
    const service = maintenanceServiceOf(silence);
    if (service === null) continue;
    const known = byService.get(service);
    if (!known) {
      byService.set(service, { service, endsAt: silence.endsAt, silenceIds: [silence.id] });
      continue;
    }
    known.silenceIds.push(silence.id);
    if (Date.parse(silence.endsAt) > Date.parse(known.endsAt)) known.endsAt = silence.endsAt;
  }
  return byService;
}

export type MaintenanceLength = { hours: number } | { until: Date };

/** The silence that starts maintenance on `service` now and ends it after the chosen length. */
export function maintenanceSilence(service: string, length: MaintenanceLength, now: Date, createdBy: string) {
  const endsAt = "hours" in length ? new Date(now.getTime() + length.hours * 3_600_000) : length.until;
  return {
    matchers: [{ name: "service", value: service, isRegex: false, isEqual: true }],
    startsAt: now.toISOString(),
    endsAt: endsAt.toISOString(),
    createdBy,
    comment: `Maintenance of ${service}`,
  };
}
