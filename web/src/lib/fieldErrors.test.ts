import { describe, expect, it } from "vitest";
import { errorsUnder, fieldErrors } from "./fieldErrors";

describe("fieldErrors", () => {
  it("keys FastAPI's validation errors by their path below the body", () => {
    const errors = fieldErrors({
      detail: [
        { loc: ["body", "endsAt"], msg: "Value error, must not be before startsAt", type: "value_error" },
        { loc: ["body", "matchers", 1, "name"], msg: "String should have at least 1 character" },
      ],
    });
    expect(errors.get("endsAt")).toEqual(["must not be before startsAt"]);
    expect(errors.get("matchers.1.name")).toEqual(["String should have at least 1 character"]);
  });

  it("moves a matcher-level message that names its field onto that field", () => {
    const errors = fieldErrors({
      detail: [{ loc: ["body", "matchers", 0], msg: "Value error, value: missing ), unterminated subpattern" }],
    });
    expect(errors.get("matchers.0.value")).toEqual(["missing ), unterminated subpattern"]);
  });

  it("keeps a plain string detail under no field and ignores bodies without detail", () => {
    expect(fieldErrors({ detail: "silence not found" }).get("")).toEqual(["silence not found"]);
    expect(fieldErrors("oops").size).toBe(0);
    expect(fieldErrors(null).size).toBe(0);
  });
});

describe("errorsUnder", () => {
  it("collects a field's messages and its children's, not its siblings'", () => {
    const errors = fieldErrors({
      detail: [
        { loc: ["body", "matchers"], msg: "at least one matcher must not match the empty value" },
        { loc: ["body", "matchers", 0, "value"], msg: "bad" },
        { loc: ["body", "matchers", 10, "value"], msg: "other" },
      ],
    });
    expect(errorsUnder(errors, "matchers.0")).toEqual(["bad"]);
    expect(errorsUnder(errors, "matchers")).toHaveLength(3);
  });
});
