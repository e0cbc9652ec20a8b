import { fileURLToPath } from "node:url";

/** The repo's migrations/ folder; compiled code runs from dist/src/store/, sources from src/store/. */
export function productMigrationsDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return here.includes("/dist/src/")
    ? fileURLToPath(new URL("../../../migrations/", import.meta.url))
    : fileURLToPath(new URL("../../migrations/", import.meta.url));
}
