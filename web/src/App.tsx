import { Navigate, NavLink, Outlet, Route, Routes } from "react-router";
import { useAuth, useSession } from "./auth";
import { useIncidentEvents } from "./live";
import { roleAllows } from "./lib/permissions";
import { EscalationPoliciesPage } from "./pages/EscalationPolicies";
import { GroupingRulesPage } from "./pages/GroupingRules";
import { IncidentDetailPage } from "./pages/IncidentDetail";
import { IncidentsPage } from "./pages/Incidents";
import { IntegrationsPage } from "./pages/Integrations";
import { OnCallPage } from "./pages/OnCall";
import { SchedulesPage } from "./pages/Schedules";
import { ServicesPage } from "./pages/Services";
import { SilencesPage } from "./pages/Silences";
import { SignInPage } from "./pages/SignIn";
import { StatsPage } from "./pages/Stats";

export function App() {
  const { session, restoring } = useAuth();
  if (restoring) return <p className="restoring">Signing in…</p>;
  if (session === null) return <SignInPage />;
  return (
    <Routes>
      <Route element={<SignedInLayout />}>
        <Route index element={<Navigate to="/incidents" replace />} />
        <Route path="incidents" element={<IncidentsPage />} />
        <Route path="incidents/:incidentId" element={<IncidentDetailPage />} />
        <Route path="oncall" element={<OnCallPage />} />
        <Route path="schedules" element={<SchedulesPage />} />
        <Route path="escalation-policies" element={<EscalationPoliciesPage />} />
        <Route path="services" element={<ServicesPage />} />
        <Route path="silences" element={<SilencesPage />} />
        <Route path="stats" element={<StatsPage />} />
        {roleAllows(session.role, "admin") && (
          <Route path="integrations" element={<IntegrationsPage />} />
        )}
        {roleAllows(session.role, "admin") && (
          <Route path="grouping-rules" element={<GroupingRulesPage />} />
        )}
        <Route path="*" element={<Navigate to="/incidents" replace />} />
      </Route>
    </Routes>
  );
}

function SignedInLayout() {
  const { role } = useSession();
  const { signOut } = useAuth();
  const live = useIncidentEvents();
  return (
    <>
      <header className="topbar">
        <span className="brand">Incident platform</span>
        <nav aria-label="Main">
          <NavLink to="/incidents">Incidents</NavLink>
          <NavLink to="/oncall">On-call</NavLink>
          <NavLink to="/schedules">Schedules</NavLink>
          <NavLink to="/escalation-policies">Escalation policies</NavLink>
          <NavLink to="/services">Services</NavLink>
          <NavLink to="/silences">Silences</NavLink>
          <NavLink to="/stats">Stats</NavLink>
          {roleAllows(role, "admin") && <NavLink to="/grouping-rules">Grouping rules</NavLink>}
          {roleAllows(role, "admin") && <NavLink to="/integrations">Integrations</NavLink>}
        </nav>
        <span className="who">
          <span className={`live live-${live}`} title="Live updates">
            {live === "open" ? "Live" : live === "connecting" ? "Connecting…" : "Offline"}
          </span>{" "}
          Role: <strong>{role}</strong>
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Outlet />
      </main>
    </>
  );
}
