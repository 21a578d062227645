import { formatMatcher } from "../lib/matchers";
import type { GroupingRule } from "../api/client";
import { inEvaluationOrder } from "./groupingRules";

/** Grouping rules in the order the ingestion service tries them; edit and delete for admins. */
export function GroupingRulesTable({
  rules,
  canEdit,
  onEdit,
  onDelete,
}: {
  rules: GroupingRule[];
  canEdit: boolean;
  onEdit: (rule: GroupingRule) => void;
  onDelete: (rule: GroupingRule) => void;
}) {
  if (rules.length === 0) return <p>No grouping rule: every alert groups by its service.</p>;
  return (
    <table className="grouping-rules">
      <caption className="visually-hidden">Grouping rules, tried in this order</caption>
      <thead>
        <tr>
          <th scope="col">Priority</th>
          <th scope="col">Name</th>
          <th scope="col">Matchers</th>
          <th scope="col">Group by</th>
          <th scope="col">Window</th>
          {canEdit && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {inEvaluationOrder(rules).map((rule) => (
          <tr key={rule.id} data-rule-name={rule.name}>
            <td>{rule.priority}</td>
            <th scope="row">{rule.name}</th>
            <td>
              <ul className="labels">
                {rule.matchers.map((matcher) => (
                  <li key={formatMatcher(matcher)}>
                    <code>{formatMatcher(matcher)}</code>
                  </li>
                ))}
              </ul>
            </td>
            <td>{rule.group_by && rule.group_by.length > 0 ? rule.group_by.join(", ") : "(the rule alone)"}</td>
            <td>{rule.window_minutes === undefined || rule.window_minutes === null ? "none" : `${rule.window_minutes} min`}</td>
            {canEdit && (
              <td>
                <button type="button" className="secondary" aria-label={`Edit rule ${rule.name}`} onClick={() => { onEdit(rule); }}>
                  Edit
                </button>
                <button type="button" aria-label={`Delete rule ${rule.name}`} onClick={() => { onDelete(rule); }}>
                  Delete
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
