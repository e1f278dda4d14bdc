/**
 * The signed-in token, kept for this browser tab's session only (sessionStorage: gone when the tab
 * closes, never sent by the browser on its own as a cookie would be).
 */
const KEY = "berth.token";

export const session = {
  token(): string | null {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  save(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};
