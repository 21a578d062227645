import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { must, type IncidentStatus, type Severity } from "../api/client";
import { useMaintenance } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading, MaintenanceBadge, SeverityBadge, StatusBadge, useNow } from "../components";
import { FlappingBadge } from "../noise/FlappingBadge";
import { ageOf } from "../lib/format";
import type { Maintenance } from "../lib/maintenance";

const STATUSES: IncidentStatus[] = ["triggered", "acknowledged", "resolved"];
const SEVERITIES: Severity[] = ["critical", "high", "warning", "info"];
const PAGE_SIZE = 25;

export function IncidentsPage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const now = useNow();
  const status = (params.get("status") ?? "") as IncidentStatus | "";
  const severity = (params.get("severity") ?? "") as Severity | "";
  const service = params.get("service") ?? "";
  const { inMaintenance } = useMaintenance(now);

  const incidents = useInfiniteQuery({
    queryKey: ["incidents", "list", { status, severity, service }],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) =>
      must(
        await api.incidents.GET("/api/v1/incidents", {
          params: {
            query: {
              limit: PAGE_SIZE,
              ...(status ? { status } : {}),
              ...(severity ? { severity } : {}),
              ...(service ? { service } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? null,
  });

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next);
  }

  const rows = incidents.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <section>
      <h1>Incidents</h1>
      <form className="filters" aria-label="Filters" onSubmit={(event) => { event.preventDefault(); }}>
        <label>
          Status
          <select value={status} onChange={(event) => { setFilter("status", event.target.value); }}>
            <option value="">any</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>{value}</option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select value={severity} onChange={(event) => { setFilter("severity", event.target.value); }}>
            <option value="">any</option>
            {SEVERITIES.map((value) => (
              <option key={value} value={value}>{value}</option>
            ))}
          </select>
        </label>
        <label>
          Service
          <input
            type="search"
            key={service}
            defaultValue={service}
            onKeyDown={(event) => {
              if (event.key === "Enter") setFilter("service", event.currentTarget.value.trim());
            }}
            onBlur={(event) => { setFilter("service", event.target.value.trim()); }}
          />
        </label>
      </form>
      <ErrorMessage error={incidents.error} />
      {incidents.isPending ? (
        <Loading what="incidents" />
      ) : rows.length === 0 ? (
        <p>No incidents match.</p>
      ) : (
        <table className="incidents">
          <caption className="visually-hidden">Incidents, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Severity</th>
              <th scope="col">Service</th>
              <th scope="col">Title</th>
              <th scope="col">Age</th>
              <th scope="col">Alerts</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((incident) => (
              <tr key={incident.id} data-incident-id={incident.id}>
                <td>
                  <StatusBadge status={incident.status} /> <FlappingBadge flapping={incident.flapping} />
                </td>
                <td><SeverityBadge severity={incident.severity} /></td>
                <td>
                  {incident.service} <ServiceMaintenance maintenance={inMaintenance.get(incident.service)} />
                </td>
                <td>
                  <Link to={`/incidents/${incident.id}`}>{incident.title}</Link>
                </td>
                <td>{ageOf(incident.created_at, now)}</td>
                <td>{incident.alert_count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {incidents.hasNextPage && (
        <button
          type="button"
          disabled={incidents.isFetchingNextPage}
          onClick={() => void incidents.fetchNextPage()}
        >
          Load more
        </button>
      )}
    </section>
  );
}

function ServiceMaintenance({ maintenance }: { maintenance: Maintenance | undefined }) {
  return maintenance ? <MaintenanceBadge maintenance={maintenance} /> : null;
}
