import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AuthState } from './api';

export interface AppContext {
  auth: AuthState;
  refresh(): Promise<void>;
  /** Signs this browser (or, with `everywhere`, every browser of the account) out, then shows the sign-in page. */
  signOut(everywhere?: boolean): Promise<void>;
}

export const Auth = createContext<AppContext | null>(null);

export function useAuth(): AppContext {
  const value = useContext(Auth);
  if (!value) throw new Error('useAuth outside <Auth.Provider>');
  return value;
}

/** Loads something from the API for a page: data, error, and a reload function. */
export { useLoad, useRefreshWhile } from './use-load';
