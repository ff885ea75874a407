/**
 * Who is signed in. The session lives in the node's HttpOnly cookie (POST /api/v1/auth/login with
 * cookie: true); the page only knows the actor GET /api/v1/auth/me returns, and forgets it when the
 * node answers 401 or the person signs out (which revokes the session token on the log).
 */
import { createContext, type ComponentChildren } from "preact";
import { useCallback, useContext, useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, onUnauthorized } from "./api.js";

/** An actor as /api/v1/auth/me shows it (docs/api.md). */
export interface Actor {
  readonly id: string;
  readonly kind: "staff" | "patient" | "system" | "institution";
  readonly roles: string[];
  readonly displayName?: string;
  readonly patient?: string;
  readonly status?: string;
  readonly [key: string]: unknown;
}

export type SessionState =
  | { readonly status: "loading" }
  | { readonly status: "signed-out"; readonly reason?: "expired" }
  | { readonly status: "signed-in"; readonly actor: Actor };

export interface Session {
  readonly state: SessionState;
  readonly signIn: (actor: string, password: string, newPassword?: string) => Promise<Actor>;
  readonly signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<SessionState>({ status: "loading" });

  useEffect(() => {
    let live = true;
    api<{ actor: Actor }>("/api/v1/auth/me")
      .then((me) => live && setState({ status: "signed-in", actor: me.actor }))
      .catch(() => live && setState({ status: "signed-out" }));
    const off = onUnauthorized(() => setState({ status: "signed-out", reason: "expired" }));
    return () => {
      live = false;
      off();
    };
  }, []);

  const signIn = useCallback(async (actor: string, password: string, newPassword?: string) => {
    await api("/api/v1/auth/login", {
      method: "POST",
      body: { actor, password, cookie: true, ...(newPassword ? { newPassword } : {}) },
    });
    const me = await api<{ actor: Actor }>("/api/v1/auth/me");
    setState({ status: "signed-in", actor: me.actor });
    return me.actor;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api("/api/v1/auth/logout", { method: "POST" });
    } catch (e) {
      // Already expired or revoked: signed out either way.
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
    }
    setState({ status: "signed-out" });
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

/** The signed-in actor (pages behind RequireRole only). */
export function useActor(): Actor {
  const { state } = useSession();
  if (state.status !== "signed-in") throw new Error("useActor without a session");
  return state.actor;
}

export function hasAnyRole(actor: Actor, roles: readonly string[]): boolean {
  return roles.some((r) => actor.roles.includes(r));
}

/** A person's name for display: the enrolled display name, else the actor id. */
export function actorName(actor: Actor): string {
  return actor.displayName ?? actor.id;
}
