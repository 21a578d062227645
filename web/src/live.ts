import { fetchEventSource } from "@microsoft/fetch-event-source";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSession } from "./auth";
import { incidentIdOf } from "./lib/events";
import { refresh } from "./lib/refresh";

export type LiveState = "connecting" | "open" | "closed";

class Unauthorized extends Error {}

/**
 * Follows the incident service's event stream (GET /api/v1/events) while signed in.
 * EventSource cannot send an Authorization header, so this streams with fetch; the library
 * resends Last-Event-ID when it reconnects, so the server replays every change missed. Each
 * change refreshes the cached views of that incident and the lists; nothing polls.
 */
export function useIncidentEvents(): LiveState {
  const { api } = useSession();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");

  useEffect(() => {
    const controller = new AbortController();
    void fetchEventSource("/api/v1/events", {
      headers: { Authorization: `Bearer ${api.token}` },
      signal: controller.signal,
      openWhenHidden: true,
      onopen(response) {
        if (response.status === 401 || response.status === 403) throw new Unauthorized();
        if (!response.ok) throw new Error(`event stream answered ${response.status}`);
        setState("open");
        return Promise.resolve();
      },
      onmessage(message) {
        // `ready`: the stream is live; what was loaded before it may have missed changes.
        // `incident`: one incident's new state (as the list shows it) after a change.
        if (message.event === "ready") {
          void refresh(queryClient, ["incidents"]);
          void refresh(queryClient, ["incident"]);
          return;
        }
        if (message.event !== "incident") return;
        const incidentId = incidentIdOf(message.data);
        void refresh(queryClient, ["incidents"]);
        void refresh(queryClient, ["stats"]);
        if (incidentId !== null) {
          void refresh(queryClient, ["incident", incidentId]);
        }
      },
      onclose() {
        // The server ended the stream: reconnect (throwing an ordinary error retries).
        setState("connecting");
        throw new Error("event stream closed");
      },
      onerror(error) {
        if (error instanceof Unauthorized) {
          setState("closed");
          throw error; // stop: a bad token will not get better
        }
        setState("connecting");
        return 2000; // retry after two seconds
      },
    }).catch(() => {
      setState("closed");
    });
    return () => {
      controller.abort();
    };
  }, [api.token, queryClient]);

  return state;
}
