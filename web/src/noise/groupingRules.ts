/** Grouping rules (issue 12) as the Grouping rules page edits them: a draft of typed text and
 * the `/api/v1/grouping-rules` body it stands for. */

import type { GroupingRuleCreate } from "../api/client";
import type { Matcher } from "../lib/matchers";

export interface GroupingRuleDraft {
  name: string;
  matchers: Matcher[];
  /** Label names, comma or space separated, as typed. */
  groupBy: string;
  windowMinutes: string;
  priority: string;
}

export type DraftResult = { body: GroupingRuleCreate } | { errors: Map<string, string> };

const WHOLE = /^-?\d+$/;

/** The request body a draft stands for, or why it cannot be sent, keyed like the API's
 * fields. An empty priority is the API's default, 0; an empty window means none. */
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
  const body: GroupingRuleCreate = { name, matchers, group_by: groupBy, priority: 0 };
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

/** The order the ingestion service tries rules in: the highest priority first, then by name
 * (grouping/store.py lists them so too; sorting again keeps the page right between fetches). */
export function inEvaluationOrder<T extends { name: string; priority?: number | null }>(rules: T[]): T[] {
  return [...rules].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name));
}

export function draftOf(rule?: GroupingRuleCreate): GroupingRuleDraft {
  return {
    name: rule?.name ?? "",
    matchers: rule?.matchers ?? [{ name: "", value: "", isRegex: false, isEqual: true }],
    groupBy: rule?.group_by?.join(", ") ?? "",
    windowMinutes: rule?.window_minutes === undefined || rule.window_minutes === null ? "" : String(rule.window_minutes),
    priority: rule === undefined ? "" : String(rule.priority),
  };
}
