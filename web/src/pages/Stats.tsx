import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { must } from "../api/client";
import { useSession } from "../auth";
import { DailyChart } from "../chart";
import { ErrorMessage, Loading } from "../components";
import { formatDuration } from "../lib/format";

const PERIODS = { "7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days" } as const;
type Period = keyof typeof PERIODS;
const DAY_MS = 86_400_000;
const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** uPlot's x value for a calendar day: its local midnight, in Unix seconds. */
function dayToSeconds(day: string): number {
  const [year = 1970, month = 1, date = 1] = day.split("-").map(Number);
  return new Date(year, month - 1, date).getTime() / 1000;
}

const minutes = (seconds: number | null) => (seconds === null ? null : seconds / 60);

export function StatsPage() {
  const { api } = useSession();
  const [params, setParams] = useSearchParams();
  const period: Period = (params.get("days") as Period | null) ?? "30";
  const since = useMemo(() => {
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    return new Date(today.getTime() - (Number(period) - 1) * DAY_MS).toISOString();
  }, [period]);

  const stats = useQuery({
    queryKey: ["stats", "summary", since],
    queryFn: async () => must(await api.incidents.GET("/api/v1/stats", { params: { query: { since } } })),
  });

  const daily = useQuery({
    queryKey: ["stats", "daily", since],
    queryFn: async () =>
      must(await api.incidents.GET("/api/v1/stats/daily", { params: { query: { since, tz: viewerZone } } })),
  });
  const charts = useMemo(() => {
    if (!daily.data) return null;
    const days = daily.data.days.map((day) => dayToSeconds(day.day));
    return {
      days,
      opened: [{ label: "Incidents opened", stroke: "#b3261e", values: daily.data.days.map((d) => d.opened) }],
      durations: [
        { label: "MTTA (mean)", stroke: "#0b4fa8", values: daily.data.days.map((d) => minutes(d.mtta.mean_seconds)) },
        { label: "MTTR (mean)", stroke: "#1d6b35", values: daily.data.days.map((d) => minutes(d.mttr.mean_seconds)) },
      ],
    };
  }, [daily.data]);

  return (
    <section>
      <h1>Stats</h1>
      <label>
        Period{" "}
        <select
          value={period}
          onChange={(event) => {
            setParams({ days: event.target.value });
          }}
        >
          {Object.entries(PERIODS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <ErrorMessage error={stats.error} />
      {stats.isPending ? (
        <Loading what="stats" />
      ) : stats.data ? (
        <>
          <p>
            {stats.data.total} incidents: {stats.data.triggered} triggered, {stats.data.acknowledged} acknowledged,{" "}
            {stats.data.resolved} resolved.
          </p>
          <table className="stats">
            <caption>Time to acknowledge (MTTA) and to resolve (MTTR)</caption>
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col">Count</th>
                <th scope="col">Mean</th>
                <th scope="col">p50</th>
                <th scope="col">p90</th>
              </tr>
            </thead>
            <tbody>
              {(
                [
                  ["MTTA", stats.data.mtta],
                  ["MTTR", stats.data.mttr],
                ] as const
              ).map(([name, measure]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{measure.count}</td>
                  <td>{formatDuration(measure.mean_seconds)}</td>
                  <td>{formatDuration(measure.p50_seconds)}</td>
                  <td>{formatDuration(measure.p90_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      <h2>Per day ({viewerZone})</h2>
      <ErrorMessage error={daily.error} />
      {charts ? (
        <>
          <DailyChart title="Incidents per day" unit="incidents" days={charts.days} series={charts.opened} />
          <DailyChart title="MTTA and MTTR per day" unit="minutes" days={charts.days} series={charts.durations} />
        </>
      ) : (
        !daily.error && <Loading what="daily stats" />
      )}
    </section>
  );
}
