import { describe, expect, it } from "vitest";
import { maintenanceServiceOf, maintenanceSilence, servicesInMaintenance, type SilenceLike } from "./maintenance";
import { matcherWith } from "./matchers";

const NOW = Date.parse("2026-12-02T12:00:00Z");

function silence(id: string, matchers: SilenceLike["matchers"], endsAt = "2026-12-02T14:00:00Z", state: SilenceLike["status"]["state"] = "active"): SilenceLike {
  return { id, matchers, startsAt: "2026-12-02T11:00:00Z", endsAt, status: { state } };
}

describe("maintenanceServiceOf", () => {
  it("is the service of exactly one equality matcher on service", () => {
    expect(maintenanceServiceOf(silence("a", [matcherWith("service", "=", "checkout")]))).toBe("checkout");
  });

  it("is nothing for a regex, a negation, another label or a second matcher", () => {
    for (const matchers of [
      [matcherWith("service", "=~", "checkout")],
      [matcherWith("service", "!=", "checkout")],
      [matcherWith("team", "=", "checkout")],
      [matcherWith("service", "=", "checkout"), matcherWith("severity", "=", "info")],
      [],
    ]) {
      expect(maintenanceServiceOf(silence("a", matchers))).toBeNull();
    }
  });
});

describe("servicesInMaintenance", () => {
  it("counts only active maintenance silences that have not ended", () => {
    const inMaintenance = servicesInMaintenance(
      [
        silence("active", [matcherWith("service", "=", "checkout")]),
        silence("pending", [matcherWith("service", "=", "search")], undefined, "pending"),
        silence("expired", [matcherWith("service", "=", "billing")], "2026-12-02T11:30:00Z", "expired"),
        silence("ended-since-listed", [matcherWith("service", "=", "auth")], "2026-12-02T11:59:00Z"),
        silence("narrower", [matcherWith("service", "=", "mail"), matcherWith("severity", "=", "info")]),
      ],
      NOW,
    );
    expect([...inMaintenance.keys()]).toEqual(["checkout"]);
    expect(inMaintenance.get("checkout")).toEqual({
      service: "checkout",
      endsAt: "2026-12-02T14:00:00Z",
      silenceIds: ["active"],
    });
  });

  it("shows the latest end of overlapping windows and keeps every silence to expire", () => {
    const inMaintenance = servicesInMaintenance(
      [
        silence("late", [matcherWith("service", "=", "checkout")], "2026-12-02T16:00:00Z"),
        silence("early", [matcherWith("service", "=", "checkout")], "2026-12-02T13:00:00Z"),
      ],
      NOW,
    );
    expect(inMaintenance.get("checkout")?.endsAt).toBe("2026-12-02T16:00:00Z");
    expect(inMaintenance.get("checkout")?.silenceIds).toEqual(["late", "early"]);
  });
});

describe("maintenanceSilence", () => {
  it("starts now and ends after the hours chosen, or at the time chosen", () => {
    const now = new Date(NOW);
    const fourHours = maintenanceSilence("checkout", { hours: 4 }, now, "pat");
    expect(fourHours).toEqual({
      matchers: [{ name: "service", value: "checkout", isRegex: false, isEqual: true }],
      startsAt: "2026-12-02T12:00:00.000Z",
      endsAt: "2026-12-02T16:00:00.000Z",
      createdBy: "pat",
      comment: "Maintenance of checkout",
    });
    expect(maintenanceServiceOf(fourHours)).toBe("checkout");
    const until = maintenanceSilence("checkout", { until: new Date("2026-12-03T08:30:00Z") }, now, "pat");
    expect(until.endsAt).toBe("2026-12-03T08:30:00.000Z");
  });
});
