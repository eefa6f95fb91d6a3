/** A logger that drops everything, for components under test that take a Fastify logger. */
export const silentLog = {
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLog;
  },
} as never;
