import { ApiFailure, api, credentials } from '../api.js';
import { field, fill, h, message } from '../dom.js';

/** Signing in checks the key with a real call; nothing is kept unless the server accepts it. */
export function signInPage(view, { afterSignIn }) {
  const why = sessionStorage.getItem('reprise.signedOutWhy');
  sessionStorage.removeItem('reprise.signedOutWhy');
  const input = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', required: true, spellcheck: 'false' });
  const status = h('div', { 'aria-live': 'polite' }, why ? message('error', why) : null);
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) {
          fill(status, message('error', 'Enter an API key: reprise prints one when an account is created (reprise accounts create).'));
          return;
        }
        submit.disabled = true;
        fill(status, message('info', 'Checking the key…'));
        credentials.signIn(key);
        try {
          await api('/api/v1/chat/credit');
          await afterSignIn();
        } catch (error) {
          credentials.signOut();
          const text =
            error instanceof ApiFailure && error.code === 401
              ? 'This API key was not accepted: check that it is complete and not revoked.'
              : `The key could not be checked: ${error.message}`;
          fill(status, message('error', text));
          input.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    field('API key', input, 'Kept in this tab only (sessionStorage); closing the tab forgets it.'),
    h('p', {}, submit),
  );
  fill(
    view,
    h('h1', {}, 'Sign in'),
    h('p', {}, 'The console uses the same API as any client, with your API key.'),
    h('section', { class: 'panel' }, form, status),
  );
  input.focus();
}
