/** Pages are paths under /ui/ (the service answers index.html for each): history navigation, no hash. */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

const BASE = "/ui";
const CHANGE = "berth:navigate";

/** The page path after /ui: "/", "/members/node1", ... */
export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return path === "" ? "/" : path;
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    addEventListener("popstate", update);
    addEventListener(CHANGE, update);
    return () => {
      removeEventListener("popstate", update);
      removeEventListener(CHANGE, update);
    };
  }, []);
  return path;
}

export function navigate(to: string): void {
  history.pushState(null, "", BASE + to);
  dispatchEvent(new Event(CHANGE));
  scrollTo(0, 0);
}

export const href = (to: string): string => BASE + to;

interface LinkProps {
  to: string;
  children: ComponentChildren;
  class?: string;
  title?: string;
  "aria-current"?: "page" | "true";
}

export function Link({ to, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={href(to)} onClick={onClick} {...rest}>{children}</a>;
}
