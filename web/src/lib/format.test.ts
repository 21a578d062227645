import { describe, expect, it } from "vitest";
import { incidentIdOf } from "./events";
import { formatDuration, fromLocalInput, toLocalInput } from "./format";

describe("formatDuration", () => {
  it("reads at a glance", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(180)).toBe("3 min");
    expect(formatDuration(2 * 3600 + 5 * 60)).toBe("2 h 5 min");
    expect(formatDuration(28 * 3600)).toBe("1 d 4 h");
  });
});

describe("incidentIdOf", () => {
  it("reads the incident id from an incident event's data", () => {
    expect(incidentIdOf('{"id": 7, "status": "triggered"}')).toBe(7);
    expect(incidentIdOf('{"id": "7"}')).toBeNull();
    expect(incidentIdOf("[]")).toBeNull();
    expect(incidentIdOf("not json")).toBeNull();
  });
});

describe("toLocalInput and fromLocalInput", () => {
  it("round-trip an instant to the minute through a datetime-local value", () => {
    const instant = new Date(2026, 11, 2, 9, 5);
    expect(toLocalInput(instant)).toBe("2026-12-02T09:05");
    expect(fromLocalInput(toLocalInput(instant))?.getTime()).toBe(instant.getTime());
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("not a time")).toBeNull();
  });
});
