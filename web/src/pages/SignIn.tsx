import { useState, type SyntheticEvent } from "react";
import { useAuth } from "../auth";

export function SignInPage() {
  const { signIn } = useAuth();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await signIn(token);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : "Sign-in failed.");
    } finally {
      setPending(false);
    }
  }

  return (
    <main className="signin">
      <h1>Incident platform</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onChange={(event) => {
            setToken(event.target.value);
          }}
        />
        <button type="submit" disabled={pending}>
          Sign in
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
