import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { must } from "../api/client";
import {
  useCreateSilence,
  useExpireSilences,
  useMaintenance,
  usePolicies,
  useRoutedServices,
  useServicesWithIncidents,
} from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading, MaintenanceBadge, useNow } from "../components";
import { formatDateTime, fromLocalInput, toLocalInput } from "../lib/format";
import { maintenanceSilence, type Maintenance, type MaintenanceLength } from "../lib/maintenance";
import { roleAllows } from "../lib/permissions";

export function ServicesPage() {
  const { role } = useSession();
  const routed = useRoutedServices();
  const seen = useServicesWithIncidents();
  const policies = usePolicies();
  const now = useNow();
  const maintenance = useMaintenance(now);
  const canWrite = roleAllows(role, "responder");
  const routing = new Map((routed.data ?? []).map((row) => [row.service, row]));
  const services = [
    ...new Set([...routing.keys(), ...(seen.data ?? []), ...maintenance.inMaintenance.keys()]),
  ].sort();
  return (
    <section>
      <h1>Services</h1>
      <p>Each service routes its incidents to one escalation policy.</p>
      <ErrorMessage error={routed.error ?? seen.error ?? maintenance.error} />
      {routed.isPending ? (
        <Loading what="services" />
      ) : services.length === 0 ? (
        <p>No service is routed or has had incidents yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Escalation policy</th>
              <th scope="col">Routed since</th>
              <th scope="col">Maintenance</th>
            </tr>
          </thead>
          <tbody>
            {services.map((service) => {
              const row = routing.get(service);
              const policy = policies.data?.find((p) => p.id === row?.escalation_policy_id);
              return (
                <tr key={service}>
                  <th scope="row">{service}</th>
                  <td>{row ? (policy?.name ?? row.escalation_policy_id) : "not routed"}</td>
                  <td>{row ? formatDateTime(row.updated_at) : "—"}</td>
                  <td>
                    <MaintenanceCell
                      service={service}
                      maintenance={maintenance.inMaintenance.get(service)}
                      canWrite={canWrite}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {roleAllows(role, "admin") && <RoutingForm />}
    </section>
  );
}

const LENGTHS = [
  { value: "1", label: "1 hour" },
  { value: "2", label: "2 hours" },
  { value: "4", label: "4 hours" },
  { value: "until", label: "until…" },
];

/** A maintenance window is a silence on exactly `service="<name>"` (lib/maintenance.ts). */
function MaintenanceCell({
  service,
  maintenance,
  canWrite,
}: {
  service: string;
  maintenance: Maintenance | undefined;
  canWrite: boolean;
}) {
  const { name } = useSession();
  const start = useCreateSilence();
  const end = useExpireSilences();
  const [length, setLength] = useState("1");
  const [until, setUntil] = useState("");
  if (maintenance) {
    return (
      <div className="maintenance">
        <MaintenanceBadge maintenance={maintenance} />
        {canWrite && (
          <button
            type="button"
            className="secondary"
            disabled={end.isPending}
            aria-label={`End maintenance of ${service}`}
            onClick={() => {
              end.mutate(maintenance.silenceIds);
            }}
          >
            End maintenance
          </button>
        )}
        <ErrorMessage error={end.error} />
      </div>
    );
  }
  if (!canWrite) return <>—</>;
  const id = `maintenance-${service.replace(/[^\w-]/g, "_")}`;
  return (
    <form
      className="maintenance"
      aria-label={`Maintenance of ${service}`}
      onSubmit={(event) => {
        event.preventDefault();
        const chosen: MaintenanceLength | null =
          length === "until"
            ? (() => {
                const at = fromLocalInput(until);
                return at ? { until: at } : null;
              })()
            : { hours: Number(length) };
        if (chosen) start.mutate(maintenanceSilence(service, chosen, new Date(), name));
      }}
    >
      <label htmlFor={`${id}-length`} className="visually-hidden">
        Maintenance length for {service}
      </label>
      <select
        id={`${id}-length`}
        value={length}
        onChange={(event) => {
          setLength(event.target.value);
          if (event.target.value === "until" && !until) {
            setUntil(toLocalInput(new Date(Date.now() + 3_600_000)));
          }
        }}
      >
        {LENGTHS.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {length === "until" && (
        <>
          <label htmlFor={`${id}-until`} className="visually-hidden">
            Maintenance of {service} ends at
          </label>
          <input
            id={`${id}-until`}
            type="datetime-local"
            required
            value={until}
            onChange={(event) => {
              setUntil(event.target.value);
            }}
          />
        </>
      )}
      <button type="submit" disabled={start.isPending} aria-label={`Start maintenance of ${service}`}>
        Start maintenance
      </button>
      <ErrorMessage error={start.error} />
    </form>
  );
}

function RoutingForm() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const policies = usePolicies();
  const [service, setService] = useState("");
  const [policyId, setPolicyId] = useState("");
  const route = useMutation({
    mutationFn: async () =>
      must(
        await api.oncall.PUT("/api/v1/services/{service}", {
          params: { path: { service: service.trim() } },
          body: { escalation_policy_id: policyId },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["services"] });
    },
  });
  return (
    <form
      className="card"
      aria-label="Route a service"
      onSubmit={(event) => {
        event.preventDefault();
        route.mutate();
      }}
    >
      <h2>Route a service</h2>
      <label htmlFor="route-service">Service</label>
      <input id="route-service" required value={service} onChange={(event) => { setService(event.target.value); }} />
      <label htmlFor="route-policy">Escalation policy</label>
      <select id="route-policy" required value={policyId} onChange={(event) => { setPolicyId(event.target.value); }}>
        <option value="">choose…</option>
        {policies.data?.map((policy) => (
          <option key={policy.id} value={policy.id}>
            {policy.name}
          </option>
        ))}
      </select>
      <button type="submit" disabled={route.isPending}>
        Save routing
      </button>
      {route.isSuccess && <p role="status">Routed {route.data.service}.</p>}
      <ErrorMessage error={route.error} />
    </form>
  );
}
