import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { describeRoles, parseRoles, sameRoles } from '../../src/roles.js';

const ALLOWED = 'expected a comma-separated list of api, worker, dispatcher, each at most once';

/** REPRISE_ROLES (SPEC §9): what this process does. */
describe('REPRISE_ROLES', () => {
  it.each([
    [undefined, ['api', 'worker', 'dispatcher']],
    // Empty means unset, as for every other variable (an env file's `REPRISE_ROLES=`).
    ['', ['api', 'worker', 'dispatcher']],
    ['api', ['api']],
    ['worker', ['worker']],
    ['dispatcher', ['dispatcher']],
    ['api,worker', ['api', 'worker']],
    ['api,dispatcher', ['api', 'dispatcher']],
    ['worker,dispatcher', ['worker', 'dispatcher']],
    ['api,worker,dispatcher', ['api', 'worker', 'dispatcher']],
    // Any order, spaces around names: the roles come back in one order.
    ['dispatcher,api', ['api', 'dispatcher']],
    [' worker , api ', ['api', 'worker']],
  ])('%j runs %j', (raw, roles) => {
    expect(loadConfig(raw === undefined ? {} : { REPRISE_ROLES: raw }).roles).toEqual(roles);
  });

  it.each([
    [',', `REPRISE_ROLES="," is not valid: ${ALLOWED} (no role is named)`],
    [' ', `REPRISE_ROLES=" " is not valid: ${ALLOWED} (no role is named)`],
    ['api,', `REPRISE_ROLES="api," is not valid: ${ALLOWED} (an entry is empty)`],
    ['api,,worker', `REPRISE_ROLES="api,,worker" is not valid: ${ALLOWED} (an entry is empty)`],
    ['web', `REPRISE_ROLES="web" is not valid: ${ALLOWED} ("web" is not a role)`],
    ['api,serve', `REPRISE_ROLES="api,serve" is not valid: ${ALLOWED} ("serve" is not a role)`],
    ['API', `REPRISE_ROLES="API" is not valid: ${ALLOWED} ("API" is not a role)`],
    ['api worker', `REPRISE_ROLES="api worker" is not valid: ${ALLOWED} ("api worker" is not a role)`],
    ['worker,worker', `REPRISE_ROLES="worker,worker" is not valid: ${ALLOWED} ("worker" is named twice)`],
    ['api,worker, api', `REPRISE_ROLES="api,worker, api" is not valid: ${ALLOWED} ("api" is named twice)`],
  ])('refuses %j with one line naming the variable', (raw, message) => {
    let thrown: unknown;
    try {
      loadConfig({ REPRISE_ROLES: raw });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toBe(message);
  });

  it('describes and compares role lists in their one order', () => {
    expect(describeRoles(parseRoles('dispatcher,worker'))).toBe('worker,dispatcher');
    expect(sameRoles(parseRoles('dispatcher,api'), ['api', 'dispatcher'])).toBe(true);
    expect(sameRoles(['api'], ['worker'])).toBe(false);
  });
});
