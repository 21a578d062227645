// Wall-clock arithmetic in an IANA zone with nothing but Intl: enough for day boundaries.

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  };
}

/** Milliseconds the zone is ahead of UTC at `instant`. */
export function offsetAt(instant: number, timeZone: string): number {
  const wall = wallClock(instant, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  return asUtc - Math.floor(instant / 60_000) * 60_000;
}

const TWELVE_HOURS_MS = 12 * 3_600_000;

function sameWallClock(a: WallClock, b: WallClock): boolean {
  return (
    a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute
  );
}

/**
 * The instant a wall-clock time happens in the zone, read as Python's zoneinfo reads it with
 * fold=0: the earlier of two in an overlap, and with the offset in force before a gap (02:30
 * on a spring-forward night is 03:30 of the new offset). Assumes no two changes within 12 h.
 */
export function instantOf(wall: WallClock, timeZone: string): number {
  const guess = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const withOffsetBefore = guess - offsetAt(guess - TWELVE_HOURS_MS, timeZone);
  const withOffsetAfter = guess - offsetAt(guess + TWELVE_HOURS_MS, timeZone);
  if (sameWallClock(wallClock(withOffsetBefore, timeZone), wall)) return withOffsetBefore;
  if (sameWallClock(wallClock(withOffsetAfter, timeZone), wall)) return withOffsetAfter;
  return withOffsetBefore;
}

/** What a datetime-local field holds (`2026-03-29T09:00`), read as wall time in the zone. */
export function parseWallTime(value: string, timeZone: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!match) throw new Error(`not a date and time: ${value}`);
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  return instantOf({ year, month, day, hour, minute }, timeZone);
}

/** Local midnight at the start of the zone's calendar day containing `instant`. */
export function startOfDay(instant: number, timeZone: string): number {
  const wall = wallClock(instant, timeZone);
  return instantOf({ ...wall, hour: 0, minute: 0 }, timeZone);
}

/** Local midnight `days` calendar days after the day of `dayStart` (23, 24 or 25 hours each). */
export function addDays(dayStart: number, days: number, timeZone: string): number {
  const wall = wallClock(dayStart, timeZone);
  const date = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + days));
  return instantOf(
    { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: 0, minute: 0 },
    timeZone,
  );
}
