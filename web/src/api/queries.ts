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

/** Every routed service with its escalation policy, by name. */
export function useRoutedServices() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["services"],
    queryFn: async () => must(await api.oncall.GET("/api/v1/services")).data,
  });
}

/** Services that have had incidents (the newest 500), routed or not. */
export function useServicesWithIncidents() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["incidents", "services"],
    queryFn: async () => {
      const page = must(await api.incidents.GET("/api/v1/incidents", { params: { query: { limit: 500 } } }));
      return [...new Set(page.data.map((incident) => incident.service))];
    },
  });
}
