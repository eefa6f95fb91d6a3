import { ApiFailure, api, credentials, onUnauthorized } from './api.js';
import { errorMessage, fill, h } from './dom.js';
import { accountPage } from './pages/account.js';
import { deliveriesPage } from './pages/deliveries.js';
import { inboxPage } from './pages/inbox.js';
import { newTaskPage } from './pages/new-task.js';
import { sandboxPage } from './pages/sandbox.js';
import { signInPage } from './pages/sign-in.js';
import { taskPage } from './pages/task.js';
import { tasksPage } from './pages/tasks.js';

// Hash routes, so that the server serves one page and a reload keeps the place.
const ROUTES = [
  [/^#\/tasks$/, tasksPage, 'Tasks'],
  [/^#\/tasks\/([^/]+)$/, taskPage, 'Task'],
  [/^#\/tasks\/([^/]+)\/deliveries$/, deliveriesPage, 'Deliveries'],
  [/^#\/new$/, newTaskPage, 'New task'],
  [/^#\/inbox$/, inboxPage, 'Inbox'],
  [/^#\/account$/, accountPage, 'Account'],
  [/^#\/sandbox$/, sandboxPage, 'Sandbox'],
];

const view = document.getElementById('view');
const nav = document.getElementById('nav');
let leave = () => {};
// Set once a key has been accepted: a refusal while signing in is the sign-in form's to explain.
let signedIn = Boolean(credentials.key());

/** What every page may use: navigation and the signed-in account (loaded once per sign-in). */
const context = {
  go: (hash) => {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  account: null,
};

async function loadAccount() {
  try {
    context.account = await api('/api/v1/account');
  } catch (error) {
    if (error instanceof ApiFailure && error.code === 401) throw error;
    context.account = null; // the account route may be missing on an older server; pages cope
  }
  document.getElementById('nav-sandbox').hidden = !context.account?.sandbox;
}

async function route() {
  leave();
  leave = () => {};
  const hash = (location.hash || '#/tasks').split('?')[0];
  if (!credentials.key()) {
    nav.hidden = true;
    document.title = 'Sign in · reprise console';
    signInPage(view, { ...context, afterSignIn });
    return;
  }
  nav.hidden = false;
  for (const link of nav.querySelectorAll('a')) {
    const here = hash === link.getAttribute('href') || hash.startsWith(`${link.getAttribute('href')}/`);
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const match = ROUTES.map(([pattern, page, title]) => [hash.match(pattern), page, title]).find(([found]) => found);
  if (!match) {
    fill(view, h('h1', {}, 'Not found'), h('p', {}, 'No console page at ', h('code', {}, hash), '. ', h('a', { href: '#/tasks' }, 'Go to the tasks.')));
    return;
  }
  const [found, page, title] = match;
  document.title = `${title} · reprise console`;
  const controller = new AbortController();
  leave = () => controller.abort();
  fill(view, h('p', {}, 'Loading…'));
  try {
    await page(view, { ...context, params: found.slice(1).map(decodeURIComponent), signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) return;
    fill(view, h('h1', {}, title), errorMessage(error, 'This page could not be shown'));
  }
  view.focus({ preventScroll: true });
}

async function afterSignIn() {
  signedIn = true;
  await loadAccount();
  context.go(location.hash && location.hash !== '#/sign-in' ? location.hash : '#/tasks');
}

onUnauthorized(() => {
  // The key stopped working (revoked, or the account removed): back to the sign-in form.
  if (!signedIn) return;
  signedIn = false;
  credentials.signOut();
  sessionStorage.setItem('reprise.signedOutWhy', 'The API key was refused by the server (revoked or unknown): sign in again.');
  route();
});

document.getElementById('sign-out').addEventListener('click', () => {
  credentials.signOut();
  signedIn = false;
  context.account = null;
  route();
});
window.addEventListener('hashchange', route);

if (credentials.key()) {
  loadAccount()
    .catch(() => {})
    .finally(route);
} else route();

export { context };
