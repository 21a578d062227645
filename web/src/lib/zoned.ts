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

/** The instant a wall-clock time happens in the zone (the later one in a gap, the first in an overlap). */
export function instantOf(wall: WallClock, timeZone: string): number {
  const guess = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const offsetAtGuess = offsetAt(guess, timeZone);
  const first = guess - offsetAtGuess;
  const offsetAtFirst = offsetAt(first, timeZone);
  // Near a change the offset at the guess may not be the offset at the answer: use the latter.
  return offsetAtFirst === offsetAtGuess ? first : guess - offsetAtFirst;
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
