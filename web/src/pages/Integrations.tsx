import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { must, type Role } from "../api/client";
import type { components } from "../api/alert-ingestion";
import { useSession } from "../auth";
import { ErrorMessage, Loading } from "../components";
import { formatDateTime } from "../lib/format";

type IntegrationKind = components["schemas"]["IntegrationKind"];
const KINDS: IntegrationKind[] = ["generic", "alertmanager", "pagerduty"];
const ROLES: Role[] = ["viewer", "responder", "admin"];

export function IntegrationsPage() {
  return (
    <section>
      <h1>Integrations</h1>
      <IntegrationsSection />
      <TokensSection />
    </section>
  );
}

/** A secret the server shows once: displayed with a copy button until dismissed. */
function OnceSecret({ label, secret, onDismiss }: { label: string; secret: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret" role="status">
      <p>
        {label} (shown once; store it now): <code data-testid="secret">{secret}</code>
      </p>
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard.writeText(secret).then(() => {
            setCopied(true);
          });
        }}
      >
        Copy
      </button>
      {copied && <span> Copied.</span>}
      <button type="button" onClick={onDismiss}>
        Done
      </button>
    </div>
  );
}

function IntegrationsSection() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<IntegrationKind>("generic");
  const [defaultService, setDefaultService] = useState("");
  const [key, setKey] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ["integrations"],
    queryFn: async () => must(await api.ingestion.GET("/api/v1/integrations")).data,
  });
  const create = useMutation({
    mutationFn: async () =>
      must(
        await api.ingestion.POST("/api/v1/integrations", {
          body: { name: name.trim(), kind, default_service: defaultService.trim() || null },
        }),
      ),
    onSuccess: async (created) => {
      setKey(created.key);
      setName("");
      setDefaultService("");
      await queryClient.invalidateQueries({ queryKey: ["integrations"] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => { must(await api.ingestion.DELETE("/api/v1/integrations/{integration_id}", { params: { path: { integration_id: id } } })); },
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: ["integrations"] });
    },
  });
  return (
    <section aria-labelledby="integrations-heading">
      <h2 id="integrations-heading">Integration keys</h2>
      <form
        className="card"
        aria-label="Create an integration"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <label htmlFor="integration-name">Integration name</label>
        <input id="integration-name" required value={name} onChange={(event) => { setName(event.target.value); }} />
        <label htmlFor="integration-kind">Kind</label>
        <select id="integration-kind" value={kind} onChange={(event) => { setKind(event.target.value as IntegrationKind); }}>
          {KINDS.map((value) => (
            <option key={value} value={value}>{value}</option>
          ))}
        </select>
        <label htmlFor="integration-service">Default service</label>
        <input id="integration-service" value={defaultService} onChange={(event) => { setDefaultService(event.target.value); }} />
        <button type="submit" disabled={create.isPending}>
          Create integration
        </button>
        <ErrorMessage error={create.error} />
      </form>
      {key && <OnceSecret label="Integration key" secret={key} onDismiss={() => { setKey(null); }} />}
      <ErrorMessage error={list.error ?? revoke.error} />
      {list.isPending ? (
        <Loading what="integrations" />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Default service</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {list.data?.map((integration) => (
              <tr key={integration.id}>
                <th scope="row">{integration.name}</th>
                <td>{integration.kind}</td>
                <td>{integration.default_service ?? "—"}</td>
                <td><code>{integration.key_masked}</code></td>
                <td>{formatDateTime(integration.created_at)}</td>
                <td>
                  <button type="button" aria-label={`Revoke ${integration.name}`} onClick={() => { revoke.mutate(integration.id); }}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TokensSection() {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("responder");
  const [token, setToken] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ["tokens"],
    queryFn: async () => must(await api.incidents.GET("/api/v1/tokens")).data,
  });
  const create = useMutation({
    mutationFn: async () => must(await api.incidents.POST("/api/v1/tokens", { body: { name: name.trim(), role } })),
    onSuccess: async (created) => {
      setToken(created.token);
      setName("");
      await queryClient.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => { must(await api.incidents.DELETE("/api/v1/tokens/{token_id}", { params: { path: { token_id: id } } })); },
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  return (
    <section aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <form
        className="card"
        aria-label="Create an API token"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <label htmlFor="token-name">Token name</label>
        <input id="token-name" required value={name} onChange={(event) => { setName(event.target.value); }} />
        <label htmlFor="token-role">Role</label>
        <select id="token-role" value={role} onChange={(event) => { setRole(event.target.value as Role); }}>
          {ROLES.map((value) => (
            <option key={value} value={value}>{value}</option>
          ))}
        </select>
        <button type="submit" disabled={create.isPending}>
          Create token
        </button>
        <ErrorMessage error={create.error} />
      </form>
      {token && <OnceSecret label="API token" secret={token} onDismiss={() => { setToken(null); }} />}
      <ErrorMessage error={list.error ?? revoke.error} />
      {list.isPending ? (
        <Loading what="tokens" />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Token</th>
              <th scope="col">Created</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {list.data?.map((row) => (
              <tr key={row.id}>
                <th scope="row">{row.name}</th>
                <td>{row.role}</td>
                <td><code>{row.token_masked}</code></td>
                <td>{formatDateTime(row.created_at)}</td>
                <td>
                  <button type="button" aria-label={`Revoke ${row.name}`} onClick={() => { revoke.mutate(row.id); }}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
