import { useEffect, useState } from "react";
import { formatDateTime } from "./lib/format";
import type { Maintenance } from "./lib/maintenance";

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : "Something went wrong.";
  return (
    <p role="alert" className="error">
      {message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true">Loading {what}…</p>;
}

/** The current time, ticking every `intervalMs`, so ages stay true while a page is open. */
export function useNow(intervalMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(Date.now());
    }, intervalMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [intervalMs]);
  return now;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span className={`badge severity-${severity}`}>{severity}</span>;
}

/** "In maintenance until …": the service's alerts are silenced until then. */
export function MaintenanceBadge({ maintenance }: { maintenance: Maintenance }) {
  return (
    <span className="badge maintenance-badge" data-testid="maintenance-badge">
      In maintenance until <time dateTime={maintenance.endsAt}>{formatDateTime(maintenance.endsAt)}</time>
    </span>
  );
}
