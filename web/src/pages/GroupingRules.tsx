import { useState } from "react";
import { ApiError, type GroupingRule } from "../api/client";
import { useDeleteGroupingRule, useGroupingRules, useSaveGroupingRule } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { errorsUnder, fieldErrors } from "../lib/fieldErrors";
import { roleAllows } from "../lib/permissions";
import { errorId, FieldErrors, MatcherFieldset, matcherRow, matchersOfRows, type MatcherRow } from "../MatcherFields";
import { draftOf, groupingRuleBody } from "../noise/groupingRules";
import { GroupingRulesTable } from "../noise/GroupingRulesTable";

export function GroupingRulesPage() {
  const { role } = useSession();
  const rules = useGroupingRules();
  const remove = useDeleteGroupingRule();
  const canEdit = roleAllows(role, "admin");
  // undefined: the form creates a new rule; a rule: the form edits it.
  const [editing, setEditing] = useState<GroupingRule | undefined>(undefined);
  const [formKey, setFormKey] = useState(0);
  const restartForm = (rule?: GroupingRule) => {
    setEditing(rule);
    setFormKey((key) => key + 1);
  };

  return (
    <section>
      <h1>Grouping rules</h1>
      <p>
        An alert that matches a rule (the highest priority first) joins the open incident of its group: the rule
        plus the values of its group-by labels. Alerts that match no rule get one incident per service.
      </p>
      {canEdit && (
        <GroupingRuleForm
          key={formKey}
          rule={editing}
          onDone={() => {
            restartForm(undefined);
          }}
        />
      )}
      <h2>Rules, in the order they are tried</h2>
      <ErrorMessage error={rules.error} />
      <ErrorMessage error={remove.error} />
      {rules.isPending ? (
        <Loading what="grouping rules" />
      ) : (
        <GroupingRulesTable
          rules={rules.data ?? []}
          canEdit={canEdit}
          onEdit={(rule) => {
            restartForm(rule);
          }}
          onDelete={(rule) => {
            if (editing?.id === rule.id) restartForm(undefined);
            remove.mutate(rule.id);
          }}
        />
      )}
    </section>
  );
}

const FORM_FIELDS = ["name", "matchers", "group_by", "window_minutes", "priority"];

function GroupingRuleForm({ rule, onDone }: { rule?: GroupingRule; onDone: () => void }) {
  const save = useSaveGroupingRule();
  const initial = draftOf(rule);
  const [name, setName] = useState(initial.name);
  const [rows, setRows] = useState<MatcherRow[]>(() => initial.matchers.map((matcher) => matcherRow(matcher)));
  const [groupBy, setGroupBy] = useState(initial.groupBy);
  const [windowMinutes, setWindowMinutes] = useState(initial.windowMinutes);
  const [priority, setPriority] = useState(initial.priority);
  const [clientErrors, setClientErrors] = useState(new Map<string, string[]>());

  const serverErrors = serverFieldErrors(save.error);
  const errors = clientErrors.size > 0 ? clientErrors : serverErrors;
  const known = (path: string) => FORM_FIELDS.some((field) => path === field || path.startsWith(`${field}.`));
  const otherErrors = [...errors.entries()].filter(([path]) => !known(path)).flatMap(([, messages]) => messages);
  const invalid = (field: string) => errorsUnder(errors, field).length > 0;
  const describedBy = (field: string) => (invalid(field) ? errorId(field) : undefined);
  const title = rule ? `Edit rule ${rule.name}` : "New grouping rule";

  function submit() {
    const result = groupingRuleBody({ name, matchers: matchersOfRows(rows), groupBy, windowMinutes, priority });
    if ("errors" in result) {
      setClientErrors(new Map([...result.errors].map(([field, message]) => [field, [message]])));
      return;
    }
    setClientErrors(new Map());
    save.mutate({ id: rule?.id, body: result.body }, { onSuccess: onDone });
  }

  return (
    <form
      className="card grouping-rule-form"
      aria-label={title}
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <h2>{title}</h2>
      <label htmlFor="rule-name">Name</label>
      <input
        id="rule-name"
        value={name}
        aria-invalid={invalid("name") || undefined}
        aria-describedby={describedBy("name")}
        onChange={(event) => {
          setName(event.target.value);
        }}
      />
      <FieldErrors id={errorId("name")} messages={errorsUnder(errors, "name")} />
      <MatcherFieldset legend="Matchers (all must match an alert's labels)" rows={rows} onChange={setRows} errors={errors} />
      <label htmlFor="rule-group-by">Group by labels (comma separated)</label>
      <input
        id="rule-group-by"
        value={groupBy}
        placeholder="cluster, region"
        aria-invalid={invalid("group_by") || undefined}
        aria-describedby={describedBy("group_by")}
        onChange={(event) => {
          setGroupBy(event.target.value);
        }}
      />
      <FieldErrors id={errorId("group_by")} messages={errorsUnder(errors, "group_by")} />
      <label htmlFor="rule-window">Window in minutes (optional)</label>
      <input
        id="rule-window"
        inputMode="numeric"
        value={windowMinutes}
        aria-invalid={invalid("window_minutes") || undefined}
        aria-describedby={describedBy("window_minutes")}
        onChange={(event) => {
          setWindowMinutes(event.target.value);
        }}
      />
      <FieldErrors id={errorId("window_minutes")} messages={errorsUnder(errors, "window_minutes")} />
      <label htmlFor="rule-priority">Priority (higher is tried first)</label>
      <input
        id="rule-priority"
        inputMode="numeric"
        value={priority}
        placeholder="0"
        aria-invalid={invalid("priority") || undefined}
        aria-describedby={describedBy("priority")}
        onChange={(event) => {
          setPriority(event.target.value);
        }}
      />
      <FieldErrors id={errorId("priority")} messages={errorsUnder(errors, "priority")} />
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {rule ? "Save rule" : "Create rule"}
        </button>
        {rule && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
      {(otherErrors.length > 0 || (save.error && !(save.error instanceof ApiError))) && (
        <p role="alert" className="error">
          {otherErrors.length > 0 ? otherErrors.join("; ") : save.error?.message}
        </p>
      )}
      {[...errors.keys()].some(known) && (
        <p role="alert" className="error">
          The rule was not saved: see the fields marked above.
        </p>
      )}
    </form>
  );
}

/** The API's refusal by field: 400/422 name theirs; a 409 is a name another rule has. */
function serverFieldErrors(error: Error | null): Map<string, string[]> {
  if (!(error instanceof ApiError)) return new Map();
  if (error.status === 409) return new Map([["name", [error.message]]]);
  const errors = fieldErrors(error.body);
  if (errors.size === 0) return new Map([["", [error.message]]]);
  return errors;
}
