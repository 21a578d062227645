import { describe, expect, it } from "vitest";
import { incidentIdOf } from "./events";
import { formatDuration } from "./format";

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
