import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { must, type Schedule } from "../api/client";
import { useSchedules, useUsers } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { roleAllows } from "../lib/permissions";
import { buildTimeline, type Segment } from "../lib/timeline";
import { parseWallTime } from "../lib/zoned";

const DAYS = 14;
const HOUR_MS = 3_600_000;
const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function SchedulesPage() {
  const schedules = useSchedules();
  return (
    <section>
      <h1>Schedules</h1>
      <p>
        The next {DAYS} days of final shifts (layers and overrides applied), in each schedule&apos;s
        time zone. Hover a shift for the times in your zone ({viewerZone}).
      </p>
      <ErrorMessage error={schedules.error} />
      {schedules.isPending && <Loading what="schedules" />}
      {schedules.data?.length === 0 && <p>No schedules yet.</p>}
      {schedules.data?.map((schedule) => <ScheduleTimeline key={schedule.id} schedule={schedule} />)}
    </section>
  );
}

function hourMinute(instant: number, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(instant),
  );
}

function dayLabel(instant: number, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone, weekday: "short", month: "short", day: "numeric" }).format(
    new Date(instant),
  );
}

function describeShift(segment: Segment, timeZone: string): string {
  const start = Date.parse(segment.shift.start);
  const end = Date.parse(segment.shift.end);
  const inZone = (zone: string) =>
    `${dayLabel(start, zone)} ${hourMinute(start, zone)} – ${dayLabel(end, zone)} ${hourMinute(end, zone)}`;
  return `${segment.shift.user} (${segment.shift.layer}): ${inZone(timeZone)} ${timeZone}; your time: ${inZone(viewerZone)} ${viewerZone}`;
}

function ScheduleTimeline({ schedule }: { schedule: Schedule }) {
  const { api, role } = useSession();
  // The window starts at the current hour so the query key is stable while the page is open.
  const [from] = useState(() => Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
  const shifts = useQuery({
    queryKey: ["schedules", schedule.id, "shifts", from],
    queryFn: async () =>
      must(
        await api.oncall.GET("/api/v1/schedules/{schedule_id}/shifts", {
          params: {
            path: { schedule_id: schedule.id },
            query: {
              from: new Date(from - 24 * HOUR_MS).toISOString(),
              to: new Date(from + (DAYS + 1) * 24 * HOUR_MS).toISOString(),
            },
          },
        }),
      ).data,
  });
  const days = useMemo(
    () =>
      buildTimeline(
        (shifts.data ?? []).map((shift) => ({ user: shift.user.name, layer: shift.layer, start: shift.start, end: shift.end })),
        from,
        DAYS,
        schedule.timezone,
      ),
    [shifts.data, from, schedule.timezone],
  );

  return (
    <section className="schedule" aria-labelledby={`schedule-${schedule.id}`}>
      <h2 id={`schedule-${schedule.id}`}>
        {schedule.name} <small>({schedule.timezone})</small>
      </h2>
      <ErrorMessage error={shifts.error} />
      {shifts.isPending ? (
        <Loading what="shifts" />
      ) : (
        <ol className="shift-days" aria-label={`${schedule.name}: next ${DAYS} days`}>
          {days.map((day) => (
            <li key={day.start} className="shift-day">
              <span className="day-label">
                {dayLabel(day.start, schedule.timezone)}
                {day.hours !== 24 && <small> ({day.hours} h)</small>}
              </span>
              <span className="day-bar">
                {day.segments.map((segment) => (
                  <span
                    key={`${segment.shift.start}-${segment.shift.user}`}
                    className={`shift layer-${segment.shift.layer === "override" ? "override" : "base"}`}
                    // React applies this through the CSSOM, which the CSP allows (no style attribute).
                    style={{ left: `${segment.leftPercent}%`, width: `${segment.widthPercent}%` }}
                    data-start={segment.shift.start}
                    title={describeShift(segment, schedule.timezone)}
                    tabIndex={0}
                    aria-label={describeShift(segment, schedule.timezone)}
                  >
                    {segment.continuesFromPreviousDay
                      ? segment.shift.user
                      : `${hourMinute(Date.parse(segment.shift.start), schedule.timezone)} ${segment.shift.user}`}
                  </span>
                ))}
              </span>
            </li>
          ))}
        </ol>
      )}
      {roleAllows(role, "responder") && <OverrideForm schedule={schedule} />}
    </section>
  );
}

function OverrideForm({ schedule }: { schedule: Schedule }) {
  const { api } = useSession();
  const users = useUsers();
  const queryClient = useQueryClient();
  const [user, setUser] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [created, setCreated] = useState(false);
  const create = useMutation({
    mutationFn: async () =>
      must(
        await api.oncall.POST("/api/v1/schedules/{schedule_id}/overrides", {
          params: { path: { schedule_id: schedule.id } },
          body: {
            user,
            start: new Date(parseWallTime(start, schedule.timezone)).toISOString(),
            end: new Date(parseWallTime(end, schedule.timezone)).toISOString(),
          },
        }),
      ),
    onMutate: () => {
      setCreated(false);
    },
    onSuccess: async () => {
      setCreated(true);
      await queryClient.invalidateQueries({ queryKey: ["schedules", schedule.id] });
    },
  });
  const prefix = `override-${schedule.id}`;
  return (
    <form
      className="override-form"
      aria-label={`Create an override on ${schedule.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate();
      }}
    >
      <label htmlFor={`${prefix}-user`}>Override user</label>
      <select id={`${prefix}-user`} required value={user} onChange={(event) => { setUser(event.target.value); }}>
        <option value="">choose…</option>
        {users.data?.map((candidate) => (
          <option key={candidate.id} value={candidate.id}>
            {candidate.name}
          </option>
        ))}
      </select>
      <label htmlFor={`${prefix}-start`}>Override start ({schedule.timezone})</label>
      <input id={`${prefix}-start`} type="datetime-local" required value={start} onChange={(event) => { setStart(event.target.value); }} />
      <label htmlFor={`${prefix}-end`}>Override end ({schedule.timezone})</label>
      <input id={`${prefix}-end`} type="datetime-local" required value={end} onChange={(event) => { setEnd(event.target.value); }} />
      <button type="submit" disabled={create.isPending}>
        Create override
      </button>
      {created && <p role="status">Override created.</p>}
      <ErrorMessage error={create.error} />
    </form>
  );
}
