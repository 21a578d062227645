/**
 * Grouping rules (issue 12), written before `/api/v1/grouping-rules` exists in this branch:
 * these types mirror the shape by hand. After the merge, replace them with the
 * generated ones (`make web-api`) and wire GroupingRulesView to the real API.
 */

import type { Matcher } from "../lib/matchers";

export interface GroupingRuleBody {
  name: string;
  matchers: Matcher[];
  group_by: string[];
  window_minutes?: number;
  priority?: number;
}

export interface GroupingRule extends GroupingRuleBody {
  id: string | number;
}

export interface GroupingRuleDraft {
  name: string;
  matchers: Matcher[];
  /** Label names, comma or space separated, as typed. */
  groupBy: string;
  windowMinutes: string;
  priority: string;
}

export type DraftResult = { body: GroupingRuleBody } | { errors: Map<string, string> };

const WHOLE = /^-?\d+$/;

/** The request body a draft stands for, or why it cannot be sent, keyed like the API's fields. */
export function groupingRuleBody(draft: GroupingRuleDraft): DraftResult {
  const errors = new Map<string, string>();
  const name = draft.name.trim();
  if (!name) errors.set("name", "a rule needs a name");
  const matchers = draft.matchers.map((matcher) => ({ ...matcher, name: matcher.name.trim() }));
  if (matchers.length === 0) errors.set("matchers", "at least one matcher");
  matchers.forEach((matcher, index) => {
    if (!matcher.name) errors.set(`matchers.${index}.name`, "a label name");
  });
  const groupBy = [...new Set(draft.groupBy.split(/[\s,]+/).filter(Boolean))];
  const body: GroupingRuleBody = { name, matchers, group_by: groupBy };
  const window = draft.windowMinutes.trim();
  if (window) {
    if (!WHOLE.test(window) || Number(window) < 1) errors.set("window_minutes", "whole minutes, at least 1");
    else body.window_minutes = Number(window);
  }
  const priority = draft.priority.trim();
  if (priority) {
    if (!WHOLE.test(priority)) errors.set("priority", "a whole number");
    else body.priority = Number(priority);
  }
  return errors.size > 0 ? { errors } : { body };
}

/** The order the ingestion service tries rules in: the highest priority first (no priority
 * counts as 0), then by name so the list is stable. */
export function inEvaluationOrder<T extends Pick<GroupingRuleBody, "name" | "priority">>(rules: T[]): T[] {
  return [...rules].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name));
}

export function draftOf(rule?: GroupingRuleBody): GroupingRuleDraft {
  return {
    name: rule?.name ?? "",
    matchers: rule?.matchers ?? [{ name: "", value: "", isRegex: false, isEqual: true }],
    groupBy: rule?.group_by.join(", ") ?? "",
    windowMinutes: rule?.window_minutes === undefined ? "" : String(rule.window_minutes),
    priority: rule?.priority === undefined ? "" : String(rule.priority),
  };
}
