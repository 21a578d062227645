/** Alertmanager's matchers as the Silences page edits them: a name, an operator and a value. */

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export const OPERATORS = ["=", "!=", "=~", "!~"] as const;
export type Operator = (typeof OPERATORS)[number];

export function operatorOf(matcher: Pick<Matcher, "isRegex" | "isEqual">): Operator {
  if (matcher.isRegex) return matcher.isEqual ? "=~" : "!~";
  return matcher.isEqual ? "=" : "!=";
}

export function matcherWith(name: string, operator: Operator, value: string): Matcher {
  return { name, value, isRegex: operator.endsWith("~"), isEqual: !operator.startsWith("!") };
}

/** `name=~"value"`, the spelling amtool and Alertmanager's own UI use. */
export function formatMatcher(matcher: Matcher): string {
  return `${matcher.name}${operatorOf(matcher)}${JSON.stringify(matcher.value)}`;
}

const SPELLED = /^\s*([^!=~\s]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** The inverse of formatMatcher; a bare value (no quotes) is taken as it stands. */
export function parseMatcher(text: string): Matcher | null {
  const parts = SPELLED.exec(text);
  if (!parts) return null;
  const [, name = "", operator = "=", raw = ""] = parts;
  let value = raw;
  if (raw.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== "string") return null;
      value = parsed;
    } catch {
      return null;
    }
  }
  return matcherWith(name, operator as Operator, value);
}

export interface AlertLabels {
  service: string;
  severity: string;
  labels: Record<string, unknown>;
}

/** The labels a silence is matched against (silence/rules.py): the sender's labels with the
 * platform's normalised service and severity, which always win over the sender's own. */
const LEADING = ["service", "severity", "alertname"];

/** "Silence like this": one equality matcher per label of the alert, the telling ones first. */
export function matchersFromAlert(alert: AlertLabels): Matcher[] {
  const labels = new Map<string, string>();
  for (const [name, value] of Object.entries(alert.labels)) {
    if (value === null || value === undefined) continue;
    labels.set(name, typeof value === "string" ? value : JSON.stringify(value));
  }
  labels.set("service", alert.service);
  labels.set("severity", alert.severity);
  const names = [...labels.keys()].sort((a, b) => {
    const rank = (name: string) => (LEADING.includes(name) ? LEADING.indexOf(name) : LEADING.length);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  return names.map((name) => matcherWith(name, "=", labels.get(name) ?? ""));
}

/** `/silences?matcher=service%3D%22checkout%22&…`: the Silences page opens its form with these. */
export function silenceFormPath(matchers: Matcher[]): string {
  const params = new URLSearchParams(matchers.map((matcher) => ["matcher", formatMatcher(matcher)]));
  return `/silences?${params.toString()}`;
}

/** The matchers a silenceFormPath carries; what cannot be read is left out. */
export function matchersFromSearch(params: URLSearchParams): Matcher[] {
  return params
    .getAll("matcher")
    .map(parseMatcher)
    .filter((matcher) => matcher !== null);
}
