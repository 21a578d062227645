/** A 400/422 body's field errors by field path (`endsAt`, `matchers.0.value`), so a form can
 * show each next to the field it names; what names no field is kept under "". */
export function fieldErrors(body: unknown): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  const add = (field: string, message: string) => {
    errors.set(field, [...(errors.get(field) ?? []), message]);
  };
  if (!body || typeof body !== "object" || !("detail" in body)) return errors;
  const { detail } = body;
  if (typeof detail === "string") {
    add("", detail);
    return errors;
  }
  if (!Array.isArray(detail)) return errors;
  for (const item of detail as unknown[]) {
    const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
    const path = Array.isArray(loc) ? loc.filter((part) => part !== "body").map(String) : [];
    let message = typeof msg === "string" ? msg.replace(/^Value error, /, "") : "invalid";
    // A model-level check names its field at the front of the message ("value: bad regex").
    const named = /^(\w+): (.*)$/s.exec(message);
    if (named?.[1] && named[2] && path.length > 0 && !Number.isNaN(Number(path[path.length - 1]))) {
      path.push(named[1]);
      message = named[2];
    }
    add(path.join("."), message);
  }
  return errors;
}

/** The messages for `field` and anything below it (`matchers.0` takes `matchers.0.name`). */
export function errorsUnder(errors: Map<string, string[]>, field: string): string[] {
  return [...errors.entries()]
    .filter(([path]) => path === field || path.startsWith(`${field}.`))
    .flatMap(([, messages]) => messages);
}
