/**
 * Imported first: autobahn-js binds console.warn at import and warns on every deliberate close of a
 * connection without retries (the login storm closes thousands). Drop exactly those lines.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  const first = typeof args[0] === "string" ? args[0] : "";
  if (first.startsWith("auto-reconnect disabled") || first.startsWith("connection closed")) return;
  warn(...args);
};
const logFn = console.log.bind(console);
console.log = (...args: unknown[]) => {
  const first = typeof args[0] === "string" ? args[0] : "";
  if (first.startsWith("connection closed") || first.startsWith("auto-reconnect disabled")) return;
  logFn(...args);
};
