import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { must } from "../api/client";
import { useKnownServices, usePolicies } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { formatDateTime } from "../lib/format";
import { roleAllows } from "../lib/permissions";

export function ServicesPage() {
  const { role } = useSession();
  const known = useKnownServices();
  const [added, setAdded] = useState<string[]>([]);
  const services = [...new Set([...(known.data ?? []), ...added])].sort();
  return (
    <section>
      <h1>Services</h1>
      <p>Each service routes its incidents to one escalation policy.</p>
      <ErrorMessage error={known.error} />
      {known.isPending ? (
        <Loading what="services" />
      ) : services.length === 0 ? (
        <p>No services have had incidents yet.</p>
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
            {services.map((service) => <ServiceRow key={service} service={service} />)}
          </tbody>
        </table>
      )}
      {roleAllows(role, "admin") && (
        <RoutingForm
          onRouted={(service) => {
            setAdded((current) => [...current, service]);
          }}
        />
      )}
    </section>
  );
}

function useRouting(service: string) {
  const { api } = useSession();
  return useQuery({
    queryKey: ["services", service, "routing"],
    queryFn: async () => {
      const result = await api.oncall.GET("/api/v1/services/{service}", { params: { path: { service } } });
      if (result.response.status === 404) return null;
      return must(result);
    },
  });
}

function ServiceRow({ service }: { service: string }) {
  const routing = useRouting(service);
  const policies = usePolicies();
  const policy = policies.data?.find((p) => p.id === routing.data?.escalation_policy_id);
  return (
    <tr>
      <th scope="row">{service}</th>
      <td>{routing.isPending ? "…" : routing.data ? (policy?.name ?? routing.data.escalation_policy_id) : "not routed"}</td>
      <td>{routing.data ? formatDateTime(routing.data.updated_at) : "—"}</td>
    </tr>
  );
}

function RoutingForm({ onRouted }: { onRouted: (service: string) => void }) {
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
    onSuccess: async (routing) => {
      onRouted(routing.service);
      await queryClient.invalidateQueries({ queryKey: ["services", routing.service] });
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
