/**
 * What a reprise process does (SPEC §9, `REPRISE_ROLES`). The three roles share nothing but the
 * store, so a fleet can run each on as many processes as its load needs:
 * - `api`: the HTTP API (tasks, files, uploads, credits); it only records work in the store;
 * - `worker`: claims task jobs and renders them;
 * - `dispatcher`: sends the callbacks finished tasks owe.
 */
export const ROLES = ['api', 'worker', 'dispatcher'] as const;
export type Role = (typeof ROLES)[number];

/** The roles, each at most once, in the order of ROLES. */
export type Roles = readonly Role[];

/** `reprise serve` without REPRISE_ROLES: everything in one process. */
export const ALL_ROLES: Roles = ROLES;

export const isRole = (name: string): name is Role => (ROLES as readonly string[]).includes(name);

/** What REPRISE_ROLES accepts, said once for every refusal. */
export const ROLES_ALLOWED = `expected a comma-separated list of ${ROLES.join(', ')}, each at most once`;

/**
 * `worker, api` → ['api', 'worker']. Throws a RangeError saying what is wrong with the list
 * (config.ts adds the variable's name and ROLES_ALLOWED): an empty entry, an unknown role, or
 * one named twice, which is most likely a typo for another one.
 */
export function parseRoles(raw: string): Roles {
  const names = raw.split(',').map((name) => name.trim());
  if (names.every((name) => name === '')) throw new RangeError('no role is named');
  const seen = new Set<Role>();
  for (const name of names) {
    if (name === '') throw new RangeError('an entry is empty');
    if (!isRole(name)) throw new RangeError(`${JSON.stringify(name)} is not a role`);
    if (seen.has(name)) throw new RangeError(`${JSON.stringify(name)} is named twice`);
    seen.add(name);
  }
  return ROLES.filter((role) => seen.has(role));
}

/** ['api', 'worker'] → `api,worker`: the form REPRISE_ROLES takes, for logs and messages. */
export const describeRoles = (roles: Roles): string => roles.join(',');

export const sameRoles = (a: Roles, b: Roles): boolean => describeRoles(a) === describeRoles(b);
