import { useState } from "react";
import { useSearchParams } from "react-router";
import { ApiError, type Silence } from "../api/client";
import { useCreateSilence, useExpireSilences, useSilences } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { errorsUnder, fieldErrors } from "../lib/fieldErrors";
import { formatDateTime, fromLocalInput, toLocalInput } from "../lib/format";
import { formatMatcher, matchersFromSearch, type Matcher } from "../lib/matchers";
import { FieldErrors, errorId, MatcherFieldset, matcherRow, matchersOfRows, type MatcherRow } from "../MatcherFields";
import { roleAllows } from "../lib/permissions";

const RECENTLY_EXPIRED = 20;

export function SilencesPage() {
  const { role } = useSession();
  const silences = useSilences();
  const [params] = useSearchParams();
  const canWrite = roleAllows(role, "responder");
  const all = silences.data ?? [];
  const inState = (state: Silence["status"]["state"]) => all.filter((silence) => silence.status.state === state);
  const expired = inState("expired")
    .sort((a, b) => Date.parse(b.endsAt) - Date.parse(a.endsAt))
    .slice(0, RECENTLY_EXPIRED);
  const prefilled = matchersFromSearch(params);
  // Kept here: clearing a "Silence like this" URL remounts the form, which would lose it.
  const [created, setCreated] = useState<string | null>(null);

  return (
    <section>
      <h1>Silences</h1>
      <p>
        A silence mutes the alerts whose labels match all its matchers while it is active: they are
        stored, open no incident and page nobody. Alerts still firing when it ends are correlated then.
      </p>
      {canWrite && <SilenceForm key={params.toString()} initial={prefilled} onCreated={setCreated} />}
      {created && <p role="status">Silence {created} created.</p>}
      <ErrorMessage error={silences.error} />
      {silences.isPending ? (
        <Loading what="silences" />
      ) : (
        <>
          <SilenceTable title="Active" silences={inState("active")} canExpire={canWrite} />
          <SilenceTable title="Pending" silences={inState("pending")} canExpire={canWrite} />
          <details className="expired">
            <summary>Recently expired ({expired.length})</summary>
            <SilenceTable title="Recently expired" silences={expired} canExpire={false} hideTitle />
          </details>
        </>
      )}
    </section>
  );
}

function SilenceTable({
  title,
  silences,
  canExpire,
  hideTitle = false,
}: {
  title: string;
  silences: Silence[];
  canExpire: boolean;
  hideTitle?: boolean;
}) {
  const expire = useExpireSilences();
  const headingId = `silences-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <>
      {!hideTitle && (
        <h2 id={headingId}>
          {title} ({silences.length})
        </h2>
      )}
      {silences.length === 0 ? (
        <p>No {title.toLowerCase()} silences.</p>
      ) : (
        <table className="silences" aria-labelledby={hideTitle ? undefined : headingId} aria-label={hideTitle ? title : undefined}>
          <thead>
            <tr>
              <th scope="col">Matchers</th>
              <th scope="col">Starts</th>
              <th scope="col">Ends</th>
              <th scope="col">Created by</th>
              <th scope="col">Comment</th>
              {canExpire && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {silences.map((silence) => (
              <tr key={silence.id} data-silence-id={silence.id}>
                <td>
                  <ul className="labels">
                    {silence.matchers.map((matcher) => (
                      <li key={formatMatcher(matcher)}>
                        <code>{formatMatcher(matcher)}</code>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{formatDateTime(silence.startsAt)}</td>
                <td>{formatDateTime(silence.endsAt)}</td>
                <td>{silence.createdBy}</td>
                <td>{silence.comment}</td>
                {canExpire && (
                  <td>
                    <button
                      type="button"
                      disabled={expire.isPending}
                      onClick={() => {
                        expire.mutate([silence.id]);
                      }}
                    >
                      Expire
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorMessage error={expire.error} />
    </>
  );
}

const LENGTHS = [
  { value: "1", label: "1 hour" },
  { value: "2", label: "2 hours" },
  { value: "4", label: "4 hours" },
  { value: "8", label: "8 hours" },
  { value: "24", label: "1 day" },
  { value: "168", label: "1 week" },
  { value: "until", label: "until a time…" },
];

function SilenceForm({ initial, onCreated }: { initial: Matcher[]; onCreated: (silenceID: string) => void }) {
  const { name: createdBy } = useSession();
  const create = useCreateSilence();
  const [, setParams] = useSearchParams();
  const [rows, setRows] = useState<MatcherRow[]>(() => (initial.length > 0 ? initial.map((matcher) => matcherRow(matcher)) : [matcherRow()]));
  const [starts, setStarts] = useState(() => toLocalInput(new Date()));
  const [length, setLength] = useState("2");
  const [ends, setEnds] = useState("");
  const [comment, setComment] = useState("");
  const [clientError, setClientError] = useState<string | null>(null);

  const errors = create.error instanceof ApiError ? fieldErrors(create.error.body) : new Map<string, string[]>();
  const known = (path: string) => path.startsWith("matchers") || ["startsAt", "endsAt", "comment"].includes(path);
  const otherErrors = [...errors.entries()].filter(([path]) => !known(path)).flatMap(([, messages]) => messages);

  function submit() {
    setClientError(null);
    const startsAt = fromLocalInput(starts) ?? new Date();
    const endsAt =
      length === "until" ? fromLocalInput(ends) : new Date(startsAt.getTime() + Number(length) * 3_600_000);
    if (endsAt === null) {
      setClientError("Choose when the silence ends.");
      return;
    }
    create.mutate(
      {
        matchers: matchersOfRows(rows),
        startsAt: startsAt.toISOString(),
        endsAt: endsAt.toISOString(),
        createdBy,
        comment: comment.trim(),
      },
      {
        onSuccess: (answer) => {
          onCreated(answer.silenceID);
          setRows([matcherRow()]);
          setComment("");
          setParams(new URLSearchParams(), { replace: true });
        },
      },
    );
  }

  const invalid = (field: string) => errorsUnder(errors, field).length > 0;
  const describedBy = (field: string) => (invalid(field) ? errorId(field) : undefined);

  return (
    <form
      className="card silence-form"
      aria-label="New silence"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <h2>New silence</h2>
      <MatcherFieldset legend="Matchers (all must match an alert's labels)" rows={rows} onChange={setRows} errors={errors} />
      <div className="silence-window">
        <label htmlFor="silence-starts">Starts</label>
        <input
          id="silence-starts"
          type="datetime-local"
          required
          value={starts}
          aria-invalid={invalid("startsAt") || undefined}
          aria-describedby={describedBy("startsAt")}
          onChange={(event) => {
            setStarts(event.target.value);
          }}
        />
        <FieldErrors id="error-startsAt" messages={errorsUnder(errors, "startsAt")} />
        <label htmlFor="silence-length">Duration</label>
        <select
          id="silence-length"
          value={length}
          onChange={(event) => {
            setLength(event.target.value);
            if (event.target.value === "until" && !ends) {
              const start = fromLocalInput(starts) ?? new Date();
              setEnds(toLocalInput(new Date(start.getTime() + 2 * 3_600_000)));
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
            <label htmlFor="silence-ends">Ends</label>
            <input
              id="silence-ends"
              type="datetime-local"
              required
              value={ends}
              aria-invalid={invalid("endsAt") || undefined}
              aria-describedby={describedBy("endsAt")}
              onChange={(event) => {
                setEnds(event.target.value);
              }}
            />
          </>
        )}
        <FieldErrors id="error-endsAt" messages={errorsUnder(errors, "endsAt")} />
      </div>
      <label htmlFor="silence-comment">Comment</label>
      <textarea
        id="silence-comment"
        rows={2}
        required
        value={comment}
        aria-invalid={invalid("comment") || undefined}
        aria-describedby={describedBy("comment")}
        onChange={(event) => {
          setComment(event.target.value);
        }}
      />
      <FieldErrors id="error-comment" messages={errorsUnder(errors, "comment")} />
      <p className="created-by">
        Created by <strong>{createdBy}</strong>
      </p>
      <button type="submit" disabled={create.isPending}>
        Create silence
      </button>
      {clientError && (
        <p role="alert" className="error">
          {clientError}
        </p>
      )}
      {create.error && (otherErrors.length > 0 || !(create.error instanceof ApiError) || errors.size === 0) && (
        <p role="alert" className="error">
          {otherErrors.length > 0 ? otherErrors.join("; ") : create.error.message}
        </p>
      )}
      {[...errors.keys()].some(known) && (
        <p role="alert" className="error">
          The silence was not created: see the fields marked above.
        </p>
      )}
    </form>
  );
}
