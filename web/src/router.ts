import { useEffect, useState } from 'preact/hooks';

/** A tiny pushState router: links are real <a href> (open in a new tab works), clicks stay in the page. */
const listeners = new Set<() => void>();
let navigations = 0;

/** Whether this document has moved between pages yet (false right after it was loaded). */
export function hasNavigated(): boolean {
  return navigations > 0;
}

export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return;
  navigations++;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  navigations++;
  for (const listener of listeners) listener();
});

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.target as HTMLElement).closest('a');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || anchor.target || anchor.hasAttribute('download')) return;
  const url = new URL(anchor.href, location.href);
  // A link within this page (the skip link to #main): the browser scrolls to it; focus goes there too.
  if (url.hash && url.origin === location.origin && url.pathname === location.pathname) {
    document.getElementById(url.hash.slice(1))?.focus();
    return;
  }
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}
