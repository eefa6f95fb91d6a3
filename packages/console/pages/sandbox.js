import { ApiFailure, api } from '../api.js';
import { errorMessage, field, fill, h, message } from '../dom.js';

const FAIL_CODES = [531, 408, 400, 500, 501];
const CALLBACK_FAILURE_STATUSES = [
  [500, '500 Internal Server Error'],
  [503, '503 Service Unavailable'],
  [408, '408 Request Timeout'],
  [0, 'connection refused'],
];
const STAGES = ['text', 'first'];

const select = (name, choices, chosen) =>
  h(
    'select',
    { name },
    choices.map(([value, label]) => h('option', { value: String(value), selected: String(value) === String(chosen) }, label)),
  );

/** One scenario's controls; `read()` gives it back in the API's shape (defaults left out). */
function scenarioEditor(scenario, index, { remove, move }) {
  const outcome = select(
    'outcome',
    [
      ['succeed', 'succeed'],
      ['fail', 'fail'],
    ],
    scenario.outcome ?? 'succeed',
  );
  const failCode = select(
    'failCode',
    FAIL_CODES.map((code) => [code, String(code)]),
    scenario.failCode ?? 531,
  );
  const delayMs = h('input', { type: 'number', name: 'delayMs', min: '0', max: '600000', step: '100', value: String(scenario.delayMs ?? 0) });
  const skips = STAGES.map((stage) => h('input', { type: 'checkbox', name: `skip-${stage}`, checked: (scenario.skipStages ?? []).includes(stage) }));
  const callbackFailures = h('input', {
    type: 'number',
    name: 'callbackFailures',
    min: '0',
    max: '10',
    step: '1',
    value: String(scenario.callbackFailures ?? 0),
  });
  const callbackFailureStatus = select('callbackFailureStatus', CALLBACK_FAILURE_STATUSES, scenario.callbackFailureStatus ?? 500);
  const failOnly = field('Failure code', failCode);
  // A failing task fails before any stage, so skipping stages only means something for a success.
  const skipSet = h(
    'fieldset',
    {},
    h('legend', {}, 'Skip stages'),
    STAGES.map((stage, i) => h('label', { class: 'inline' }, skips[i], `${stage} callback`)),
  );
  const syncFail = () => {
    failOnly.hidden = outcome.value !== 'fail';
    skipSet.hidden = outcome.value === 'fail';
  };
  outcome.addEventListener('change', syncFail);
  syncFail();

  const element = h(
    'div',
    { class: 'scenario', role: 'group', 'aria-label': `Scenario ${index + 1}` },
    h('h3', {}, `Task ${index + 1} in the queue`),
    h('div', { class: 'row' }, field('Outcome', outcome), failOnly, field('Delay (ms)', delayMs)),
    skipSet,
    h('div', { class: 'row' }, field('Callback attempts that fail first', callbackFailures), field('Their failure', callbackFailureStatus)),
    h(
      'p',
      { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: () => move(index, -1), disabled: index === 0 }, 'Move up'),
      h('button', { type: 'button', class: 'danger', onclick: () => remove(index) }, 'Remove'),
    ),
  );
  const read = () => {
    const out = { outcome: outcome.value };
    if (outcome.value === 'fail') out.failCode = Number(failCode.value);
    if (Number(delayMs.value) > 0) out.delayMs = Number(delayMs.value);
    const skipped = outcome.value === 'fail' ? [] : STAGES.filter((_, i) => skips[i].checked);
    if (skipped.length) out.skipStages = skipped;
    if (Number(callbackFailures.value) > 0) {
      out.callbackFailures = Number(callbackFailures.value);
      out.callbackFailureStatus = Number(callbackFailureStatus.value);
    }
    return out;
  };
  return { element, read };
}

/** The scenario queue of a sandbox account: each new task takes the first scenario. */
export async function sandboxPage(view, { signal }) {
  let scenarios;
  try {
    ({ scenarios } = await api('/api/v1/sandbox', { signal }));
  } catch (error) {
    if (error instanceof ApiFailure && error.code === 403) {
      fill(
        view,
        h('h1', {}, 'Sandbox'),
        message('error', `${error.message}`),
        h('p', {}, 'Scenarios are for sandbox accounts: reprise accounts create --sandbox.'),
      );
      return;
    }
    throw error;
  }
  const status = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  let editors = [];

  const readAll = () => editors.map((editor) => editor.read());
  const render = (items) => {
    editors = items.map((scenario, index) =>
      scenarioEditor(scenario, index, {
        remove: (i) => render(readAll().filter((_, j) => j !== i)),
        move: (i, by) => {
          const all = readAll();
          [all[i + by], all[i]] = [all[i], all[i + by]];
          render(all);
        },
      }),
    );
    fill(list, editors.length ? editors.map((editor) => editor.element) : message('info', 'The queue is empty: tasks run normally.'));
  };
  render(scenarios);

  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const saved = await api('/api/v1/sandbox', { method: 'PUT', body: { scenarios: readAll() }, signal });
          render(saved?.scenarios ?? readAll());
          fill(status, message('ok', `Saved: the next ${editors.length} task(s) follow these scenarios, in order.`));
        } catch (error) {
          fill(status, errorMessage(error, 'The scenarios were not saved'));
        }
      },
    },
    list,
    h(
      'p',
      { class: 'row' },
      h('button', { type: 'button', class: 'secondary', onclick: () => render([...readAll(), { outcome: 'succeed' }]) }, 'Add a scenario'),
      h('button', { type: 'submit' }, 'Save the queue'),
    ),
  );
  fill(
    view,
    h('h1', {}, 'Sandbox scenarios'),
    h(
      'p',
      {},
      'Each new task of this account takes the first scenario of the queue: fail with a code, succeed after a delay, skip a stage, make its first callback attempts fail. Credits here are play money.',
    ),
    status,
    form,
  );
}
