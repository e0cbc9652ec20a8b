import { cliOk } from "./cli.js";
import { ticketLogin, type Joined } from "./client.js";

/**
 * Users of realm `app` made through the CLI, each with the password `<authid>-pw`, and their ticket
 * logins (kept in `sessions`, for the suite to close). `where` is read at call time, after `before`.
 */
export function passwordUsers(where: () => { wsUrl: string; env: NodeJS.ProcessEnv }) {
  const sessions: Joined[] = [];
  return {
    sessions,
    login: async (authid: string): Promise<Joined> => {
      const c = await ticketLogin(where().wsUrl, "app", authid, `${authid}-pw`);
      sessions.push(c);
      return c;
    },
    user: async (authid: string, role = "user", extra?: string): Promise<void> => {
      const { env } = where();
      await cliOk(["users", "add", "app", authid, "--role", role, ...(extra ? ["--extra", extra] : [])], { env });
      await cliOk(["users", "passwd", "app", authid], { env, input: `${authid}-pw` });
    },
  };
}
