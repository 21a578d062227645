import { useQuery } from "@tanstack/react-query";
import { ApiError, must, type Schedule } from "../api/client";
import { useRoutedServices, useSchedules } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { formatDateTime } from "../lib/format";

export function OnCallPage() {
  const schedules = useSchedules();
  const services = useRoutedServices();
  return (
    <section>
      <h1>On-call</h1>
      <h2>Schedules</h2>
      <ErrorMessage error={schedules.error} />
      {schedules.isPending ? (
        <Loading what="schedules" />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Schedule</th>
              <th scope="col">On call now</th>
              <th scope="col">Layer</th>
              <th scope="col">Until</th>
            </tr>
          </thead>
          <tbody>
            {schedules.data?.map((schedule) => <ScheduleOnCallRow key={schedule.id} schedule={schedule} />)}
          </tbody>
        </table>
      )}
      <h2>Services</h2>
      <ErrorMessage error={services.error} />
      {services.isPending ? (
        <Loading what="services" />
      ) : services.data?.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Escalation policy</th>
              <th scope="col">Paged first now</th>
            </tr>
          </thead>
          <tbody>
            {services.data.map((routing) => (
              <ServiceOnCallRow key={routing.service} service={routing.service} />
            ))}
          </tbody>
        </table>
      ) : (
        <p>No service is routed to an escalation policy yet.</p>
      )}
    </section>
  );
}

function ScheduleOnCallRow({ schedule }: { schedule: Schedule }) {
  const { api } = useSession();
  const now = useQuery({
    queryKey: ["schedules", schedule.id, "oncall"],
    queryFn: async () =>
      must(
        await api.oncall.GET("/api/v1/schedules/{schedule_id}/oncall", {
          params: { path: { schedule_id: schedule.id } },
        }),
      ),
    refetchInterval: 60_000,
  });
  return (
    <tr>
      <th scope="row">{schedule.name}</th>
      <td>{now.isPending ? "…" : (now.data?.user?.name ?? "nobody")}</td>
      <td>{now.data?.layer ?? "—"}</td>
      <td>
        {now.data?.shift_end ? `${formatDateTime(now.data.shift_end, schedule.timezone)} (${schedule.timezone})` : "—"}
      </td>
    </tr>
  );
}

function ServiceOnCallRow({ service }: { service: string }) {
  const { api } = useSession();
  const paged = useQuery({
    queryKey: ["services", service, "oncall"],
    queryFn: async () => {
      const result = await api.oncall.GET("/api/v1/oncall", { params: { query: { service } } });
      return must(result);
    },
    refetchInterval: 60_000,
  });
  if (paged.error) {
    return (
      <tr>
        <th scope="row">{service}</th>
        <td colSpan={2}>{paged.error instanceof ApiError ? paged.error.message : "failed"}</td>
      </tr>
    );
  }
  return (
    <tr>
      <th scope="row">{service}</th>
      <td>{paged.data?.escalation_policy.name ?? "…"}</td>
      <td>
        {paged.data?.targets
          .map((target) =>
            target.users.length ? target.users.map((user) => user.name).join(", ") : target.target,
          )
          .join("; ") ?? ""}
      </td>
    </tr>
  );
}
