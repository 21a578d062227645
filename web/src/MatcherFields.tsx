import { errorsUnder } from "./lib/fieldErrors";
import { matcherWith, OPERATORS, operatorOf, type Matcher, type Operator } from "./lib/matchers";

/** One matcher as a form edits it; `key` keeps React's rows apart while they are edited. */
export interface MatcherRow {
  key: number;
  name: string;
  operator: Operator;
  value: string;
}

let nextRowKey = 0;
export function matcherRow(matcher?: Matcher): MatcherRow {
  nextRowKey += 1;
  return {
    key: nextRowKey,
    name: matcher?.name ?? "",
    operator: matcher ? operatorOf(matcher) : "=",
    value: matcher?.value ?? "",
  };
}

export function matchersOfRows(rows: MatcherRow[]): Matcher[] {
  return rows.map((item) => matcherWith(item.name.trim(), item.operator, item.value));
}

/** The id of the element that shows a field's errors, for aria-describedby. */
export function errorId(field: string): string {
  return `error-${field.replace(/\./g, "-")}`;
}

export function FieldErrors({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <span id={id} className="field-error error">
      {messages.join("; ")}
    </span>
  );
}

/** The Silences page's matcher rows (label, operator, value), shared by every form that
 * takes Alertmanager matchers; each row shows the API's errors for `matchers.<i>...`. */
export function MatcherFieldset({
  legend,
  rows,
  onChange,
  errors,
}: {
  legend: string;
  rows: MatcherRow[];
  onChange: (rows: MatcherRow[]) => void;
  errors: Map<string, string[]>;
}) {
  const invalid = (field: string) => errorsUnder(errors, field).length > 0;
  const describedBy = (field: string) => (invalid(field) ? errorId(field) : undefined);
  const matcherListErrors = errors.get("matchers") ?? [];
  function update(key: number, change: Partial<MatcherRow>) {
    onChange(rows.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }
  return (
    <fieldset aria-describedby={matcherListErrors.length > 0 ? "error-matchers" : undefined}>
      <legend>{legend}</legend>
      {rows.map((item, index) => {
        const at = `matchers.${index}`;
        const number = index + 1;
        return (
          <div className="matcher-row" key={item.key} data-testid="matcher-row">
            <input
              aria-label={`Matcher ${number} label`}
              placeholder="label"
              value={item.name}
              aria-invalid={invalid(`${at}.name`) || undefined}
              aria-describedby={describedBy(`${at}.name`)}
              onChange={(event) => {
                update(item.key, { name: event.target.value });
              }}
            />
            <select
              aria-label={`Matcher ${number} operator`}
              value={item.operator}
              onChange={(event) => {
                update(item.key, { operator: event.target.value as Operator });
              }}
            >
              {OPERATORS.map((operator) => (
                <option key={operator} value={operator}>
                  {operator}
                </option>
              ))}
            </select>
            <input
              aria-label={`Matcher ${number} value`}
              placeholder="value"
              value={item.value}
              aria-invalid={invalid(`${at}.value`) || undefined}
              aria-describedby={describedBy(`${at}.value`)}
              onChange={(event) => {
                update(item.key, { value: event.target.value });
              }}
            />
            <button
              type="button"
              className="secondary"
              aria-label={`Remove matcher ${number}`}
              disabled={rows.length === 1}
              onClick={() => {
                onChange(rows.filter((other) => other.key !== item.key));
              }}
            >
              Remove
            </button>
            <FieldErrors id={errorId(`${at}.name`)} messages={errorsUnder(errors, `${at}.name`)} />
            <FieldErrors id={errorId(`${at}.value`)} messages={errorsUnder(errors, `${at}.value`)} />
            <FieldErrors
              id={errorId(at)}
              messages={[...(errors.get(at) ?? []), ...(errors.get(`${at}.isRegex`) ?? [])]}
            />
          </div>
        );
      })}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          onChange([...rows, matcherRow()]);
        }}
      >
        Add matcher
      </button>
      <FieldErrors id="error-matchers" messages={matcherListErrors} />
    </fieldset>
  );
}
