import { describe, expect, it } from "vitest";
import { availableTransitions, roleAllows } from "./permissions";

describe("availableTransitions", () => {
  it("offers only the legal transitions to a responder", () => {
    expect(availableTransitions("triggered", "responder")).toEqual(["acknowledge", "resolve"]);
    expect(availableTransitions("acknowledged", "admin")).toEqual(["resolve"]);
    expect(availableTransitions("resolved", "responder")).toEqual(["reopen"]);
  });

  it("offers nothing to a viewer", () => {
    expect(availableTransitions("triggered", "viewer")).toEqual([]);
    expect(availableTransitions("resolved", "viewer")).toEqual([]);
  });
});

describe("roleAllows", () => {
  it("ranks viewer below responder below admin", () => {
    expect(roleAllows("admin", "responder")).toBe(true);
    expect(roleAllows("responder", "admin")).toBe(false);
    expect(roleAllows("viewer", "viewer")).toBe(true);
  });
});
