import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { must } from "../api/client";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { formatDuration } from "../lib/format";

const PERIODS = { "7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days" } as const;
type Period = keyof typeof PERIODS;
const DAY_MS = 86_400_000;

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
    </section>
  );
}
