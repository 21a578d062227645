import { useQuery } from "@tanstack/react-query";
import { useSession } from "../auth";
import { must } from "./client";

export function useSchedules() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["schedules"],
    queryFn: async () => must(await api.oncall.GET("/api/v1/schedules")).data,
  });
}

export function useUsers() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["users"],
    queryFn: async () => must(await api.oncall.GET("/api/v1/users")).data,
  });
}

export function usePolicies() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["escalation-policies"],
    queryFn: async () => must(await api.oncall.GET("/api/v1/escalation-policies")).data,
  });
}

/**
 * The services the platform knows: those seen in incidents (newest 500). The on-call API has
 * no list of routed services, so a service is known once it has had an incident or is routed
 * from the Services page in this session.
 */
export function useKnownServices() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["incidents", "services"],
    queryFn: async () => {
      const page = must(await api.incidents.GET("/api/v1/incidents", { params: { query: { limit: 500 } } }));
      return [...new Set(page.data.map((incident) => incident.service))].sort();
    },
  });
}
