import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError, must, type IncidentDetail } from "../api/client";
import { useSession } from "../auth";
import { ErrorMessage, Loading, SeverityBadge, StatusBadge } from "../components";
import { FlappingBadge } from "../noise/FlappingBadge";
import { formatDateTime, formatDuration } from "../lib/format";
import { matchersFromAlert, silenceFormPath } from "../lib/matchers";
import { availableTransitions, roleAllows, type Transition } from "../lib/permissions";

const LABELS: Record<Transition, string> = {
  acknowledge: "Acknowledge",
  resolve: "Resolve",
  reopen: "Reopen",
};

export function IncidentDetailPage() {
  const { api, role } = useSession();
  const incidentId = Number(useParams().incidentId);
  const queryClient = useQueryClient();
  const [conflict, setConflict] = useState<string | null>(null);
  const queryKey = ["incident", incidentId];

  const incident = useQuery({
    queryKey,
    queryFn: async () =>
      must(
        await api.incidents.GET("/api/v1/incidents/{incident_id}", {
          params: { path: { incident_id: incidentId } },
        }),
      ),
  });

  async function refresh() {
    await queryClient.invalidateQueries({ queryKey });
    await queryClient.invalidateQueries({ queryKey: ["incidents"] });
  }

  function onFailure(error: Error) {
    if (error instanceof ApiError && error.status === 409) {
      setConflict(`Someone else acted first: ${error.message}. The view has been refreshed.`);
      void refresh();
    }
  }

  const transition = useMutation({
    mutationFn: async (action: Transition) => {
      const path = { params: { path: { incident_id: incidentId } } };
      const result =
        action === "acknowledge"
          ? await api.incidents.POST("/api/v1/incidents/{incident_id}/acknowledge", path)
          : action === "resolve"
            ? await api.incidents.POST("/api/v1/incidents/{incident_id}/resolve", path)
            : await api.incidents.POST("/api/v1/incidents/{incident_id}/reopen", path);
      return must(result);
    },
    onMutate: () => {
      setConflict(null);
    },
    onSuccess: refresh,
    onError: onFailure,
  });

  if (incident.isPending) return <Loading what="the incident" />;
  if (incident.isError) return <ErrorMessage error={incident.error} />;
  const data = incident.data;
  const canRespond = roleAllows(role, "responder");

  return (
    <article className="incident">
      <p>
        <Link to="/incidents">← Incidents</Link>
      </p>
      <h1>
        #{data.id} {data.title}
      </h1>
      <dl className="facts">
        <dt>Service</dt>
        <dd>{data.service}</dd>
        <dt>Severity</dt>
        <dd><SeverityBadge severity={data.severity} /></dd>
        <dt>Status</dt>
        <dd>
          <span data-testid="incident-status"><StatusBadge status={data.status} /></span> <FlappingBadge flapping={data.flapping} />
        </dd>
        {data.grouping_rule && (
          <>
            <dt>Grouped by</dt>
            <dd data-testid="incident-grouping">
              rule <strong>{data.grouping_rule}</strong>, key <code>{data.group_key}</code>
            </dd>
          </>
        )}
        <dt>Assignee</dt>
        <dd>{data.assignee ?? "nobody"}</dd>
        <dt>Opened</dt>
        <dd>{formatDateTime(data.created_at)}</dd>
        <dt>Time to acknowledge</dt>
        <dd>{formatDuration(data.time_to_acknowledge_seconds)}</dd>
        <dt>Time to resolve</dt>
        <dd>{formatDuration(data.time_to_resolve_seconds)}</dd>
      </dl>

      <div className="actions">
        {availableTransitions(data.status, role).map((action) => (
          <button
            key={action}
            type="button"
            disabled={transition.isPending}
            onClick={() => {
              transition.mutate(action);
            }}
          >
            {LABELS[action]}
          </button>
        ))}
      </div>
      {conflict && (
        <p role="alert" className="error">
          {conflict}
        </p>
      )}
      {transition.error && !(transition.error instanceof ApiError && transition.error.status === 409) && (
        <ErrorMessage error={transition.error} />
      )}

      {canRespond && <ResponderForms incident={data} onChanged={refresh} />}

      <h2>Alerts ({data.alerts.length})</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Severity</th>
            <th scope="col">Summary</th>
            <th scope="col">Labels</th>
            <th scope="col">Occurrences</th>
            <th scope="col">Last seen</th>
            {canRespond && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {data.alerts.map((alert) => (
            <tr key={alert.id}>
              <td>{alert.status}</td>
              <td><SeverityBadge severity={alert.severity} /></td>
              <td>{alert.summary}</td>
              <td>
                <ul className="labels">
                  {Object.entries(alert.labels).map(([name, value]) => (
                    <li key={name}>
                      <code>
                        {name}={String(value)}
                      </code>
                    </li>
                  ))}
                </ul>
              </td>
              <td>{alert.occurrences}</td>
              <td>{formatDateTime(alert.last_seen_at)}</td>
              {canRespond && (
                <td>
                  <Link to={silenceFormPath(matchersFromAlert(alert))} aria-label={`Silence like this: ${alert.summary}`}>
                    Silence like this
                  </Link>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Timeline</h2>
      <ol className="timeline" aria-label="Timeline">
        {data.timeline.map((event) => (
          <li key={event.id} data-kind={event.kind}>
            <time dateTime={event.at}>{formatDateTime(event.at)}</time>{" "}
            <span className="kind">{event.kind}</span> <span className="actor">{event.actor}</span>
            {": "}
            <span className="message">{event.message}</span>
          </li>
        ))}
      </ol>
    </article>
  );
}

function ResponderForms({
  incident,
  onChanged,
}: {
  incident: IncidentDetail;
  onChanged: () => Promise<void>;
}) {
  const { api } = useSession();
  const [note, setNote] = useState("");
  const [assignee, setAssignee] = useState(incident.assignee ?? "");
  const path = { params: { path: { incident_id: incident.id } } };

  const addNote = useMutation({
    mutationFn: async (text: string) =>
      must(await api.incidents.POST("/api/v1/incidents/{incident_id}/notes", { ...path, body: { text } })),
    onSuccess: async () => {
      setNote("");
      await onChanged();
    },
  });
  const assign = useMutation({
    mutationFn: async (who: string) =>
      must(
        await api.incidents.PATCH("/api/v1/incidents/{incident_id}", {
          ...path,
          body: { assignee: who || null },
        }),
      ),
    onSuccess: onChanged,
  });

  return (
    <div className="responder-forms">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (note.trim()) addNote.mutate(note.trim());
        }}
      >
        <label htmlFor="note">Note</label>
        <textarea
          id="note"
          rows={2}
          value={note}
          onChange={(event) => {
            setNote(event.target.value);
          }}
        />
        <button type="submit" disabled={addNote.isPending}>
          Add note
        </button>
        <ErrorMessage error={addNote.error} />
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          assign.mutate(assignee.trim());
        }}
      >
        <label htmlFor="assignee">Assignee</label>
        <input
          id="assignee"
          value={assignee}
          onChange={(event) => {
            setAssignee(event.target.value);
          }}
        />
        <button type="submit" disabled={assign.isPending}>
          Assign
        </button>
        <ErrorMessage error={assign.error} />
      </form>
    </div>
  );
}
