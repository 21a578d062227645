import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// In development the Vite server stands in for the platform's web server: it forwards each
// API path to the service that owns it, so the browser talks to one origin as in production.
const ingestion = process.env.ALERT_INGESTION_URL ?? "http://127.0.0.1:8001";
const incidents = process.env.INCIDENT_MANAGEMENT_URL ?? "http://127.0.0.1:8002";
const oncall = process.env.ONCALL_URL ?? "http://127.0.0.1:8003";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api/v1/alerts": ingestion,
      "/api/v1/integrations": ingestion,
      "/v2/enqueue": ingestion,
      "/api/v2": ingestion,
      "/api/v1/incidents": incidents,
      "/api/v1/events": incidents,
      "/api/v1/stats": incidents,
      "/api/v1/tokens": incidents,
      "/api/v1/whoami": incidents,
      "/api/v1": oncall,
    },
  },
  build: { sourcemap: true },
  test: { include: ["src/**/*.test.ts"] },
});
