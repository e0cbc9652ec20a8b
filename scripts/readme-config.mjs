// Rewrites the configuration table in README.md from the convict schema (run after `npm run build`),
// so the documented keys, env vars and defaults cannot drift from the code.
import { readFileSync, writeFileSync } from "node:fs";
import { schema } from "../dist/src/config/schema.js";

const rows = [];
function walk(node, path) {
  for (const [key, v] of Object.entries(node)) {
    if (v && typeof v === "object" && "doc" in v && "default" in v) {
      // Sensitive defaults are shown only when they hold no password (e.g. a trust-auth database URL).
      const hidden = v.sensitive && typeof v.default === "string" && /:[^:@/]+@/.test(v.default.replace(/^\w+:\/\//, ""));
      const shown = hidden ? "(secret)" : `\`${JSON.stringify(v.default)}\``;
      rows.push(`| \`${[...path, key].join(".")}\` | \`${v.env ?? ""}\` | ${shown} | ${String(v.doc).replace(/\|/g, "\\|")} |`);
    } else if (v && typeof v === "object") walk(v, [...path, key]);
  }
}
walk(schema, []);
const table = ["<!-- config-table -->", "| key | env | default | meaning |", "|---|---|---|---|", ...rows, "<!-- /config-table -->"].join(
  "\n",
);
const readme = readFileSync("README.md", "utf8");
const start = readme.indexOf("<!-- config-table -->");
if (start < 0) throw new Error("README.md has no <!-- config-table --> marker");
const endMarker = "<!-- /config-table -->";
const end = readme.indexOf(endMarker, start);
// Without a closing marker (first run) only the opening marker is replaced.
const next = readme.slice(0, start) + table + readme.slice(end < 0 ? start + "<!-- config-table -->".length : end + endMarker.length);
writeFileSync("README.md", next);
console.log(`README.md: ${rows.length} config keys`);
