import { describe, expect, it } from "vitest";
import {
  formatMatcher,
  matcherWith,
  matchersFromAlert,
  matchersFromSearch,
  operatorOf,
  parseMatcher,
  silenceFormPath,
} from "./matchers";

describe("operators", () => {
  it("maps each operator to Alertmanager's isRegex and isEqual and back", () => {
    expect(matcherWith("a", "=", "x")).toEqual({ name: "a", value: "x", isRegex: false, isEqual: true });
    expect(matcherWith("a", "!=", "x")).toEqual({ name: "a", value: "x", isRegex: false, isEqual: false });
    expect(matcherWith("a", "=~", "x")).toEqual({ name: "a", value: "x", isRegex: true, isEqual: true });
    expect(matcherWith("a", "!~", "x")).toEqual({ name: "a", value: "x", isRegex: true, isEqual: false });
    for (const op of ["=", "!=", "=~", "!~"] as const) expect(operatorOf(matcherWith("a", op, ""))).toBe(op);
  });
});

describe("formatMatcher and parseMatcher", () => {
  it("round-trip values with quotes, operators and spaces in them", () => {
    for (const matcher of [
      matcherWith("service", "=", "checkout"),
      matcherWith("instance", "!~", 'web-[0-9]+ "eu"'),
      matcherWith("path", "=", "a=b!=c"),
      matcherWith("empty", "!=", ""),
    ]) {
      expect(parseMatcher(formatMatcher(matcher))).toEqual(matcher);
    }
    expect(formatMatcher(matcherWith("job", "=~", "api|web"))).toBe('job=~"api|web"');
  });

  it("takes an unquoted value as it stands and refuses what is no matcher", () => {
    expect(parseMatcher("team = payments")).toEqual(matcherWith("team", "=", "payments"));
    expect(parseMatcher("no operator")).toBeNull();
    expect(parseMatcher('a="unterminated')).toBeNull();
    expect(parseMatcher("a=5")).toEqual(matcherWith("a", "=", "5"));
  });
});

describe("matchersFromAlert", () => {
  it("puts service, severity and alertname first, then the rest by name", () => {
    const matchers = matchersFromAlert({
      service: "checkout",
      severity: "critical",
      labels: { zone: "b", alertname: "HighErrorRate", cluster: "eu-1" },
    });
    expect(matchers.map(formatMatcher)).toEqual([
      'service="checkout"',
      'severity="critical"',
      'alertname="HighErrorRate"',
      'cluster="eu-1"',
      'zone="b"',
    ]);
  });

  it("uses the platform's normalised service and severity over the sender's labels", () => {
    const matchers = matchersFromAlert({
      service: "checkout",
      severity: "warning",
      labels: { service: "Checkout-API", severity: "P3", retries: 3 },
    });
    expect(matchers.map(formatMatcher)).toEqual([
      'service="checkout"',
      'severity="warning"',
      'retries="3"',
    ]);
  });
});

describe("silenceFormPath and matchersFromSearch", () => {
  it("carry matchers through a URL unchanged", () => {
    const matchers = [matcherWith("service", "=", "checkout"), matcherWith("path", "=~", "/api/v[12]&x=1")];
    const path = silenceFormPath(matchers);
    expect(path.startsWith("/silences?matcher=")).toBe(true);
    expect(matchersFromSearch(new URL(path, "http://x").searchParams)).toEqual(matchers);
    expect(matchersFromSearch(new URLSearchParams("matcher=garbage&matcher=a%3Db"))).toEqual([matcherWith("a", "=", "b")]);
  });
});
