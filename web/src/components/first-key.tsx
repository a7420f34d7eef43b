import type { ComponentChildren } from 'preact';
import { navigate } from '../router';
import { useAuth } from '../session';
import { SecretReveal } from './ui';

/** The page after an account was just made (setup, sign-up): its first API key, shown once, then on to the dashboard. */
export function FirstKeyPage(props: { title: string; lead: ComponentChildren; apiKey: string; testId?: string }) {
  const { refresh } = useAuth();
  return (
    <main class="center-page">
      <div class="card narrow">
        <h1>{props.title}</h1>
        <p>{props.lead}</p>
        <SecretReveal title="Your API key" value={props.apiKey} testId={props.testId} />
        <button
          class="btn btn-primary btn-block"
          onClick={async () => {
            await refresh();
            navigate('/', true);
          }}
        >
          Continue to the dashboard
        </button>
      </div>
    </main>
  );
}
