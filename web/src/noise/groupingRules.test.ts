import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { matcherWith } from "../lib/matchers";
import { FlappingBadge } from "./FlappingBadge";
import { draftOf, groupingRuleBody, inEvaluationOrder, type GroupingRuleDraft } from "./groupingRules";
import { GroupingRulesTable } from "./GroupingRulesTable";

const DRAFT: GroupingRuleDraft = {
  name: " By cluster ",
  matchers: [matcherWith(" team ", "=", "payments")],
  groupBy: "cluster, region cluster",
  windowMinutes: "30",
  priority: "10",
};

describe("groupingRuleBody", () => {
  it("trims, splits group_by into distinct labels and reads the numbers", () => {
    expect(groupingRuleBody(DRAFT)).toEqual({
      body: {
        name: "By cluster",
        matchers: [matcherWith("team", "=", "payments")],
        group_by: ["cluster", "region"],
        window_minutes: 30,
        priority: 10,
      },
    });
  });

  it("leaves out an empty window and takes an empty priority as the API's 0", () => {
    const result = groupingRuleBody({ ...DRAFT, windowMinutes: "", priority: " " });
    expect(result).toEqual({ body: { name: "By cluster", matchers: DRAFT.matchers.map((m) => ({ ...m, name: m.name.trim() })), group_by: ["cluster", "region"], priority: 0 } });
    expect("body" in result && Object.keys(result.body).sort()).toEqual(["group_by", "matchers", "name", "priority"]);
  });

  it("names each field it refuses", () => {
    const result = groupingRuleBody({
      name: "",
      matchers: [matcherWith("", "=", "x")],
      groupBy: "",
      windowMinutes: "0",
      priority: "1.5",
    });
    expect("errors" in result && [...result.errors.keys()].sort()).toEqual([
      "matchers.0.name",
      "name",
      "priority",
      "window_minutes",
    ]);
    expect(groupingRuleBody({ ...DRAFT, matchers: [] })).toEqual({ errors: new Map([["matchers", "at least one matcher"]]) });
  });

  it("round-trips a rule through its draft", () => {
    const body = { name: "r", matchers: [matcherWith("a", "=~", "b.*")], group_by: ["cluster"], window_minutes: 5, priority: 2 };
    expect(groupingRuleBody(draftOf(body))).toEqual({ body });
  });
});

describe("inEvaluationOrder", () => {
  it("puts the highest priority first, a missing one as 0, ties by name", () => {
    const rules = [{ name: "b" }, { name: "a", priority: -1 }, { name: "c", priority: 5 }, { name: "a0" }];
    expect(inEvaluationOrder(rules).map((rule) => rule.name)).toEqual(["c", "a0", "b", "a"]);
  });
});

describe("GroupingRulesTable", () => {
  const stamps = { created_at: "2026-12-02T05:00:00Z", updated_at: "2026-12-02T05:00:00Z" };
  const rules = [
    { ...stamps, id: "1", name: "low", matchers: [matcherWith("team", "=", "x")], group_by: ["cluster"], window_minutes: null, priority: 1 },
    { ...stamps, id: "2", name: "high", matchers: [matcherWith("env", "!~", "dev|test")], group_by: [], window_minutes: 15, priority: 9 },
  ];
  const noop = () => undefined;

  it("lists rules in evaluation order with their matchers, key labels and window", () => {
    const html = renderToStaticMarkup(createElement(GroupingRulesTable, { rules, canEdit: false, onEdit: noop, onDelete: noop }));
    expect(html.indexOf("high")).toBeLessThan(html.indexOf("low"));
    expect(html).toContain("env!~&quot;dev|test&quot;");
    expect(html).toContain("15 min");
    expect(html).toContain("cluster");
    expect(html).toContain("none"); // no window
    expect(html).not.toContain("<button");
  });

  it("offers edit and delete only to those who may edit", () => {
    const html = renderToStaticMarkup(createElement(GroupingRulesTable, { rules, canEdit: true, onEdit: noop, onDelete: noop }));
    expect(html).toContain("Delete rule high");
    expect(html).toContain("Edit rule low");
  });
});

describe("FlappingBadge", () => {
  it("shows only for a flapping incident", () => {
    expect(renderToStaticMarkup(createElement(FlappingBadge, { flapping: true }))).toContain("flapping");
    expect(renderToStaticMarkup(createElement(FlappingBadge, { flapping: false }))).toBe("");
    expect(renderToStaticMarkup(createElement(FlappingBadge, {}))).toBe("");
  });
});
