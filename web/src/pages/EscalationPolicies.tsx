import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { must, type EscalationPolicy, type EscalationPolicyModel } from "../api/client";
import { usePolicies, useSchedules, useUsers } from "../api/queries";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { roleAllows } from "../lib/permissions";

type Step = EscalationPolicyModel["steps"][number];
type Target = Step["targets"][number];

export function EscalationPoliciesPage() {
  const { role } = useSession();
  const policies = usePolicies();
  const [creating, setCreating] = useState(false);
  const isAdmin = roleAllows(role, "admin");
  return (
    <section>
      <h1>Escalation policies</h1>
      <ErrorMessage error={policies.error} />
      {policies.isPending && <Loading what="escalation policies" />}
      {policies.data?.length === 0 && <p>No escalation policies yet.</p>}
      {policies.data?.map((policy) => <PolicyCard key={policy.id} policy={policy} editable={isAdmin} />)}
      {isAdmin &&
        (creating ? (
          <PolicyEditor
            initial={{ name: "", repeat: 0, steps: [{ delay_minutes: 0, targets: [] }] }}
            onDone={() => {
              setCreating(false);
            }}
          />
        ) : (
          <button type="button" onClick={() => { setCreating(true); }}>
            New escalation policy
          </button>
        ))}
    </section>
  );
}

function useTargetName() {
  const schedules = useSchedules();
  const users = useUsers();
  return (target: Target): string => {
    if (target.type === "webhook") return `webhook ${target.url}`;
    if (target.type === "schedule") {
      return `schedule ${schedules.data?.find((s) => s.id === target.id)?.name ?? target.id}`;
    }
    return `user ${users.data?.find((u) => u.id === target.id)?.name ?? target.id}`;
  };
}

function PolicyCard({ policy, editable }: { policy: EscalationPolicy; editable: boolean }) {
  const [editing, setEditing] = useState(false);
  const targetName = useTargetName();
  if (editing) {
    return (
      <PolicyEditor
        policyId={policy.id}
        initial={{ name: policy.name, repeat: policy.repeat, steps: policy.steps }}
        onDone={() => {
          setEditing(false);
        }}
      />
    );
  }
  return (
    <section className="card" aria-labelledby={`policy-${policy.id}`}>
      <h2 id={`policy-${policy.id}`}>{policy.name}</h2>
      <ol>
        {policy.steps.map((step, index) => (
          <li key={index}>
            after {step.delay_minutes} min: {step.targets.map(targetName).join(", ") || "nobody"}
          </li>
        ))}
      </ol>
      <p>Repeat: {policy.repeat}</p>
      {editable && (
        <button type="button" aria-label={`Edit ${policy.name}`} onClick={() => { setEditing(true); }}>
          Edit
        </button>
      )}
    </section>
  );
}

function PolicyEditor({
  policyId,
  initial,
  onDone,
}: {
  policyId?: string;
  initial: EscalationPolicyModel;
  onDone: () => void;
}) {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const schedules = useSchedules();
  const users = useUsers();
  const [policy, setPolicy] = useState<EscalationPolicyModel>(initial);
  const save = useMutation({
    mutationFn: async () =>
      policyId
        ? must(
            await api.oncall.PUT("/api/v1/escalation-policies/{policy_id}", {
              params: { path: { policy_id: policyId } },
              body: policy,
            }),
          )
        : must(await api.oncall.POST("/api/v1/escalation-policies", { body: policy })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["escalation-policies"] });
      onDone();
    },
  });

  function updateStep(index: number, change: Partial<Step>) {
    setPolicy({ ...policy, steps: policy.steps.map((step, i) => (i === index ? { ...step, ...change } : step)) });
  }

  function defaultTarget(): Target {
    const schedule = schedules.data?.[0];
    if (schedule) return { type: "schedule", id: schedule.id };
    const user = users.data?.[0];
    if (user) return { type: "user", id: user.id };
    return { type: "webhook", url: "" };
  }

  const prefix = policyId ?? "new";
  return (
    <form
      className="card editor"
      aria-label={policyId ? `Edit ${initial.name}` : "New escalation policy"}
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <label htmlFor={`${prefix}-name`}>Policy name</label>
      <input id={`${prefix}-name`} required value={policy.name} onChange={(event) => { setPolicy({ ...policy, name: event.target.value }); }} />
      <label htmlFor={`${prefix}-repeat`}>Repeat</label>
      <input
        id={`${prefix}-repeat`}
        type="number"
        min={0}
        value={policy.repeat}
        onChange={(event) => { setPolicy({ ...policy, repeat: Number(event.target.value) }); }}
      />
      {policy.steps.map((step, index) => (
        <fieldset key={index}>
          <legend>Step {index + 1}</legend>
          <label htmlFor={`${prefix}-step-${index}-delay`}>Step {index + 1} delay (minutes)</label>
          <input
            id={`${prefix}-step-${index}-delay`}
            type="number"
            min={0}
            value={step.delay_minutes}
            onChange={(event) => { updateStep(index, { delay_minutes: Number(event.target.value) }); }}
          />
          {step.targets.map((target, targetIndex) => {
            const id = `${prefix}-step-${index}-target-${targetIndex}`;
            const replace = (next: Target) => {
              updateStep(index, { targets: step.targets.map((t, i) => (i === targetIndex ? next : t)) });
            };
            return (
              <div key={targetIndex} className="target">
                <label htmlFor={`${id}-type`}>Target type</label>
                <select
                  id={`${id}-type`}
                  value={target.type}
                  onChange={(event) => {
                    const type = event.target.value;
                    replace(
                      type === "webhook"
                        ? { type: "webhook", url: "" }
                        : type === "user"
                          ? { type: "user", id: users.data?.[0]?.id ?? "" }
                          : { type: "schedule", id: schedules.data?.[0]?.id ?? "" },
                    );
                  }}
                >
                  <option value="schedule">schedule</option>
                  <option value="user">user</option>
                  <option value="webhook">webhook</option>
                </select>
                <label htmlFor={`${id}-value`}>Target</label>
                {target.type === "webhook" ? (
                  <input id={`${id}-value`} type="url" required value={target.url} onChange={(event) => { replace({ type: "webhook", url: event.target.value }); }} />
                ) : (
                  <select id={`${id}-value`} value={target.id} onChange={(event) => { replace({ ...target, id: event.target.value }); }}>
                    {(target.type === "schedule" ? schedules.data : users.data)?.map((option) => (
                      <option key={option.id} value={option.id}>
                        {option.name}
                      </option>
                    ))}
                  </select>
                )}
                <button
                  type="button"
                  onClick={() => { updateStep(index, { targets: step.targets.filter((_, i) => i !== targetIndex) }); }}
                >
                  Remove target
                </button>
              </div>
            );
          })}
          <button type="button" onClick={() => { updateStep(index, { targets: [...step.targets, defaultTarget()] }); }}>
            Add target
          </button>
          <button
            type="button"
            disabled={policy.steps.length === 1}
            onClick={() => { setPolicy({ ...policy, steps: policy.steps.filter((_, i) => i !== index) }); }}
          >
            Remove step
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        onClick={() => {
          const last = policy.steps.at(-1);
          setPolicy({ ...policy, steps: [...policy.steps, { delay_minutes: (last?.delay_minutes ?? 0) + 5, targets: [] }] });
        }}
      >
        Add step
      </button>
      <button type="submit" disabled={save.isPending}>
        Save policy
      </button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
      <ErrorMessage error={save.error} />
    </form>
  );
}
