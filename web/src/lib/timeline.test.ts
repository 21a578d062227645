import { describe, expect, it } from "vitest";
import { buildTimeline } from "./timeline";
import { addDays, instantOf, parseWallTime, startOfDay, wallClock } from "./zoned";

const PARIS = "Europe/Paris";

// Daily 09:00 Europe/Paris handoffs around the spring-forward night of 2026-03-29.
const shifts = [
  { user: "alice", layer: "primary", start: "2026-03-28T08:00:00Z", end: "2026-03-29T07:00:00Z" },
  { user: "bob", layer: "primary", start: "2026-03-29T07:00:00Z", end: "2026-03-30T07:00:00Z" },
];

describe("zoned day arithmetic", () => {
  it("knows the spring-forward day in Paris is 23 hours and the autumn one 25", () => {
    const spring = startOfDay(Date.parse("2026-03-29T12:00:00Z"), PARIS);
    expect(new Date(spring).toISOString()).toBe("2026-03-28T23:00:00.000Z");
    expect((addDays(spring, 1, PARIS) - spring) / 3_600_000).toBe(23);
    const autumn = startOfDay(Date.parse("2026-10-25T12:00:00Z"), PARIS);
    expect(new Date(autumn).toISOString()).toBe("2026-10-24T22:00:00.000Z");
    expect((addDays(autumn, 1, PARIS) - autumn) / 3_600_000).toBe(25);
  });

  it("maps a wall-clock time to its instant on either side of the change", () => {
    expect(new Date(instantOf({ year: 2026, month: 3, day: 28, hour: 9, minute: 0 }, PARIS)).toISOString())
      .toBe("2026-03-28T08:00:00.000Z");
    expect(new Date(instantOf({ year: 2026, month: 3, day: 29, hour: 9, minute: 0 }, PARIS)).toISOString())
      .toBe("2026-03-29T07:00:00.000Z");
    expect(wallClock(Date.parse("2026-03-29T07:00:00Z"), PARIS).hour).toBe(9);
  });
});

describe("buildTimeline across a DST change", () => {
  const days = buildTimeline(shifts, Date.parse("2026-03-28T10:00:00Z"), 3, PARIS);

  it("starts each row at local midnight, with the real length of that day", () => {
    expect(days.map((day) => day.hours)).toEqual([24, 23, 24]);
  });

  it("puts the 09:00 handoff at 09:00 of the 23-hour day, not at 10:00", () => {
    const changeDay = days[1];
    expect(changeDay?.segments.map((s) => s.shift.user)).toEqual(["alice", "bob"]);
    const [alice, bob] = changeDay?.segments ?? [];
    // Midnight to 09:00 local is 8 real hours on that day (02:00 never happened).
    expect(alice?.leftPercent).toBe(0);
    expect(alice?.widthPercent).toBeCloseTo((8 / 23) * 100);
    expect(bob?.leftPercent).toBeCloseTo((8 / 23) * 100);
    expect(bob?.continuesToNextDay).toBe(true);
    expect(alice?.continuesFromPreviousDay).toBe(true);
  });

  it("covers every day completely when shifts are back to back", () => {
    for (const day of days.slice(0, 2)) {
      const covered = day.segments.reduce((sum, s) => sum + s.widthPercent, 0);
      expect(covered).toBeCloseTo(day === days[0] ? (15 / 24) * 100 : 100);
    }
  });
});

describe("parseWallTime (override fields, read in the schedule's zone)", () => {
  const iso = (value: string, zone = PARIS) => new Date(parseWallTime(value, zone)).toISOString();

  it("reads ordinary times with the offset of that date", () => {
    expect(iso("2026-03-28T09:00")).toBe("2026-03-28T08:00:00.000Z");
    expect(iso("2026-03-29T09:00")).toBe("2026-03-29T07:00:00.000Z");
    expect(iso("2026-07-01T12:00", "America/New_York")).toBe("2026-07-01T16:00:00.000Z");
  });

  it("takes the earlier of the two 02:30s on the autumn night, as Python's fold=0", () => {
    expect(iso("2026-10-25T02:30")).toBe("2026-10-25T00:30:00.000Z");
  });

  it("reads a time inside the spring gap with the offset before it", () => {
    // 02:30 never happens in Paris on 2026-03-29; with +01:00 it is 03:30 CEST.
    expect(iso("2026-03-29T02:30")).toBe("2026-03-29T01:30:00.000Z");
  });

  it("refuses what is not a date and time", () => {
    expect(() => parseWallTime("tomorrow", PARIS)).toThrow();
  });
});
