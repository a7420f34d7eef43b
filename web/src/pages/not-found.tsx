import { Empty, PageHeader } from '../components/ui';

/** Any path the dashboard does not have (the server answers it 404 with this page for browsers). */
export function NotFoundPage(props: { signedIn?: boolean }) {
  return (
    <>
      <PageHeader title="Page not found" lead={`There is nothing at ${location.pathname}.`} />
      <Empty title="There is no such page">
        {props.signedIn === false ? <a href="/login">Go to sign-in</a> : <a href="/">Back to the overview</a>}
        {' · '}
        <a href="/docs">API reference</a>
      </Empty>
    </>
  );
}
