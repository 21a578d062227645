import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSession } from "../auth";
import { servicesInMaintenance } from "../lib/maintenance";
import { must, type GroupingRuleCreate, type PostableSilence } from "./client";

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

/** Every silence the ingestion service holds; refetched often, as silences start and end. */
export function useSilences() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["silences"],
    queryFn: async () => must(await api.ingestion.GET("/api/v2/silences")),
    refetchInterval: 30_000,
  });
}

/** Services in maintenance now, by name (lib/maintenance.ts decides). */
export function useMaintenance(now: number) {
  const silences = useSilences();
  return { ...silences, inMaintenance: servicesInMaintenance(silences.data ?? [], now) };
}

export function useCreateSilence() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (body: PostableSilence) => must(await api.ingestion.POST("/api/v2/silences", { body })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["silences"] });
    },
  });
}

/** Expires each silence (DELETE answers an empty 200, as Alertmanager does). */
export function useExpireSilences() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (ids: string[]) => {
      for (const id of ids) {
        must(await api.ingestion.DELETE("/api/v2/silence/{silence_id}", { params: { path: { silence_id: id } }, parseAs: "text" }));
      }
    },
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: ["silences"] });
    },
  });
}

/** Grouping rules as the ingestion service answers them: in the order it tries them. */
export function useGroupingRules() {
  const { api } = useSession();
  return useQuery({
    queryKey: ["grouping-rules"],
    queryFn: async () => must(await api.ingestion.GET("/api/v1/grouping-rules")).data,
  });
}

/** Creates a rule, or replaces the one `id` names (PUT replaces it whole). */
export function useSaveGroupingRule() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, body }: { id?: string; body: GroupingRuleCreate }) =>
      id === undefined
        ? must(await api.ingestion.POST("/api/v1/grouping-rules", { body }))
        : must(await api.ingestion.PUT("/api/v1/grouping-rules/{rule_id}", { params: { path: { rule_id: id } }, body })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["grouping-rules"] });
    },
  });
}

export function useDeleteGroupingRule() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      must(await api.ingestion.DELETE("/api/v1/grouping-rules/{rule_id}", { params: { path: { rule_id: id } }, parseAs: "text" }));
    },
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: ["grouping-rules"] });
    },
  });
}
