import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { hasNavigated, onLinkClick } from '../router';
import { useAuth } from '../session';
import { planLabel } from './ui';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/connection', label: 'WhatsApp connection' },
  { href: '/keys', label: 'API keys' },
  { href: '/messages', label: 'Messages' },
  { href: '/inbox', label: 'Inbox' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/groups', label: 'Groups' },
  { href: '/recipients', label: 'Recipients' },
  { href: '/quick-start', label: 'Quick start' },
];

export function Shell(props: { path: string; children: ComponentChildren }) {
  const { auth, signOut } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  const firstRender = useRef(true);
  const menu = useRef<HTMLElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    setMenuOpen(false);
    // After moving to another page (the first-loaded one included, when coming back to it, and the
    // first page after signing in), start keyboard and screen-reader users at its content; not when
    // the document has just been loaded.
    const first = firstRender.current;
    firstRender.current = false;
    if (!first || hasNavigated()) document.getElementById('main')?.focus({ preventScroll: true });
  }, [props.path]);
  // The phone menu covers the page: it closes on Escape (focus back on its button) and as soon
  // as focus leaves it, so focus never lands on controls hidden under it. A layout effect: the
  // listeners are in place when the open menu is painted, not a frame later, so a fast Shift+Tab
  // right after opening it still closes it.
  useLayoutEffect(() => {
    if (!menuOpen) return;
    const inside = (node: EventTarget | null) => node instanceof Node && (menu.current?.contains(node) || toggle.current?.contains(node));
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setMenuOpen(false);
      toggle.current?.focus();
    };
    const onFocus = (event: FocusEvent) => {
      if (!inside(event.target)) setMenuOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocus);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocus);
    };
  }, [menuOpen]);
  const account = auth.account!;
  const links = [...NAV, { href: '/account', label: 'Your account' }, ...(account.isAdmin ? [{ href: '/admin', label: 'Admin: accounts' }] : [])];
  const current = (href: string) => (href === '/' ? props.path === '/' : props.path === href || props.path.startsWith(`${href}/`));

  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/" aria-label="MessageAPI home">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>MessageAPI</span>
        </a>
        {auth.driver === 'sandbox' && <span class="pill pill-warn" title="WhatsApp is simulated on this server">Sandbox</span>}
        <div class="topbar-right">
          <span class="who" title={account.email}>
            {account.email} <span class="pill">{planLabel(account.plan)}</span>
          </span>
          <button type="button" class="btn btn-ghost signout-top" onClick={() => void signOut()} data-testid="sign-out">
            Sign out
          </button>
          <button type="button" ref={toggle} class="btn btn-ghost menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
            Menu
          </button>
        </div>
      </header>
      <nav id="nav" ref={menu} class={`sidebar ${menuOpen ? 'open' : ''}`} aria-label="Settings pages">
        <ul>
          {links.map((link) => (
            <li key={link.href}>
              <a href={link.href} aria-current={current(link.href) ? 'page' : undefined}>
                {link.label}
              </a>
            </li>
          ))}
          <li class="nav-signout">
            <span class="hint">{account.email}</span>
            <button type="button" class="btn btn-block" onClick={() => void signOut()}>
              Sign out
            </button>
          </li>
        </ul>
        <p class="sidebar-foot">
          <a href="/docs" target="_blank" rel="noreferrer">
            API reference ↗
          </a>
        </p>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
