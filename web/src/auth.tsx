import { useQueryClient } from "@tanstack/react-query";
import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { createApi, type Api, type Role } from "./api/client";
import { fetchIdentity } from "./api/role";

// The token lives in memory and in sessionStorage (gone when the tab closes), never in a URL
// or localStorage, as the issue requires.
const STORAGE_KEY = "incident-platform.token";

export interface Session {
  api: Api;
  /** The token's name, recorded as the author of what this session creates. */
  name: string;
  role: Role;
}

interface AuthState {
  session: Session | null;
  restoring: boolean;
  signIn: (token: string) => Promise<void>;
  signOut: () => void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(STORAGE_KEY) !== null);

  const signIn = useCallback(async (token: string) => {
    const api = createApi(token.trim());
    const identity = await fetchIdentity(api);
    sessionStorage.setItem(STORAGE_KEY, api.token);
    setSession({ api, ...identity });
  }, []);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    queryClient.clear();
    setSession(null);
  }, [queryClient]);

  useEffect(() => {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored === null) return;
    // A reload keeps the tab's session: ask the server again what the stored token may do.
    const api = createApi(stored);
    fetchIdentity(api)
      .then(
        (identity) => {
          setSession({ api, ...identity });
        },
        () => {
          sessionStorage.removeItem(STORAGE_KEY);
        },
      )
      .finally(() => {
        setRestoring(false);
      });
  }, []);

  const value = useMemo(
    () => ({ session, restoring, signIn, signOut }),
    [session, restoring, signIn, signOut],
  );
  return <AuthContext value={value}>{children}</AuthContext>;
}

export function useAuth(): AuthState {
  const state = use(AuthContext);
  if (state === null) throw new Error("useAuth outside AuthProvider");
  return state;
}

/** The signed-in session; only rendered under the signed-in layout. */
export function useSession(): Session {
  const { session } = useAuth();
  if (session === null) throw new Error("useSession without a session");
  return session;
}
