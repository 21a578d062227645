import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { must } from "../api/client";
import { usePolicies, useRoutedServices, useServicesWithIncidents } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { formatDateTime } from "../lib/format";
import { roleAllows } from "../lib/permissions";

export function ServicesPage() {
  const { role } = useSession();
  const routed = useRoutedServices();
  const seen = useServicesWithIncidents();
  const policies = usePolicies();
  const routing = new Map((routed.data ?? []).map((row) => [row.service, row]));
  const services = [...new Set([...routing.keys(), ...(seen.data ?? [])])].sort();
  return (
    <section>
      <h1>Services</h1>
      <p>Each service routes its incidents to one escalation policy.</p>
      <ErrorMessage error={routed.error ?? seen.error} />
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
