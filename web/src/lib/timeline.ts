import { addDays, startOfDay } from "./zoned";

export interface TimelineShift {
  user: string;
  layer: string;
  start: string;
  end: string;
}

export interface Segment {
  shift: TimelineShift;
  /** Where the segment starts and how wide it is, in percent of its day's real length. */
  leftPercent: number;
  widthPercent: number;
  continuesFromPreviousDay: boolean;
  continuesToNextDay: boolean;
}

export interface TimelineDay {
  start: number;
  end: number;
  hours: number;
  segments: Segment[];
}

/**
 * Cuts shifts into rows of the schedule zone's calendar days. A day is measured from local
 * midnight to the next local midnight, so the day clocks change on is 23 or 25 hours long and
 * a 09:00 handoff sits at the same place on every row.
 */
export function buildTimeline(
  shifts: TimelineShift[],
  from: number,
  days: number,
  timeZone: string,
): TimelineDay[] {
  const rows: TimelineDay[] = [];
  let dayStart = startOfDay(from, timeZone);
  for (let index = 0; index < days; index += 1) {
    const dayEnd = addDays(dayStart, 1, timeZone);
    const length = dayEnd - dayStart;
    const segments: Segment[] = [];
    for (const shift of shifts) {
      const start = Date.parse(shift.start);
      const end = Date.parse(shift.end);
      if (end <= dayStart || start >= dayEnd) continue;
      const clippedStart = Math.max(start, dayStart);
      const clippedEnd = Math.min(end, dayEnd);
      segments.push({
        shift,
        leftPercent: ((clippedStart - dayStart) / length) * 100,
        widthPercent: ((clippedEnd - clippedStart) / length) * 100,
        continuesFromPreviousDay: start < dayStart,
        continuesToNextDay: end > dayEnd,
      });
    }
    segments.sort((a, b) => a.leftPercent - b.leftPercent);
    rows.push({ start: dayStart, end: dayEnd, hours: length / 3_600_000, segments });
    dayStart = dayEnd;
  }
  return rows;
}
