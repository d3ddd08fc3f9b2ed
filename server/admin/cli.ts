import { parseArgs } from "node:util";
import type { Db } from "@/db/client";
import { createAccountInput } from "@/protocol/inputs";
import type { Auth } from "../auth";
import { ChatError } from "../chat/errors";
import { createAccount, setDeactivated, userIdByEmail } from "./accounts";

export const ADMIN_USAGE = `usage: npm run admin -- <command> <email> [options]

  create-admin  <email> [--name N] [--password P]
  create-staff  <email> [--name N] [--password P]
  create-player <email> [--name N] [--password P] [--id PLAYER_ID]
  deactivate    <email>   the account cannot sign in; its sessions end now
  reactivate    <email>

Without --password a temporary one is printed; it must be changed at first sign-in.`;

const commands = { "create-admin": "admin", "create-staff": "staff", "create-player": "player" } as const;

/**
 * `npm run admin`: what a fresh deployment needs before any admin exists. Returns the exit code;
 * every outcome is one or a few lines on `out` / `err`.
 */
export async function runAdminCommand(
  db: Db,
  argv: string[],
  io: { out: (line: string) => void; err: (line: string) => void },
  /** For deactivate (ending sessions); default: made from `db` when needed. */
  auth?: () => Promise<Auth>,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${ADMIN_USAGE}`);
    return 2;
  }
  const { command, values, email } = parsed;
  if (command === "deactivate" || command === "reactivate") {
    const userId = await userIdByEmail(db, email);
    if (!userId) {
      io.err(`No account with the email ${email}`);
      return 1;
    }
    const deactivated = command === "deactivate";
    const authFor = auth ?? (async () => (await import("../auth")).createAuth(db));
    await setDeactivated({ db, auth: await authFor() }, { userId, deactivated });
    io.out(deactivated ? `Deactivated ${email}; its sessions were ended.` : `Reactivated ${email}.`);
    return 0;
  }
  const role = commands[command as keyof typeof commands];
  if (!role) {
    io.err(`Unknown command "${command ?? ""}".\n\n${ADMIN_USAGE}`);
    return 2;
  }
  const input = createAccountInput.safeParse({
    role,
    email,
    name: values.name ?? email?.split("@")[0],
    password: values.password,
    playerId: values.id,
  });
  if (!input.success) {
    io.err(input.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("\n"));
    return 2;
  }
  if (role !== "player" && values.id !== undefined) {
    io.err("--id is for create-player only");
    return 2;
  }
  try {
    // A password typed here was chosen by the person at the keyboard: no forced change.
    const made = await createAccount(db, { ...input.data, mustChangePassword: !values.password });
    io.out(
      `Created ${made.role} ${made.email} (${made.name})${made.playerId ? ` with Player ID ${made.playerId}` : ""}.`,
    );
    if (made.temporaryPassword) {
      io.out(`Temporary password: ${made.temporaryPassword} (must be changed at first sign-in)`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ChatError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: "string" }, password: { type: "string" }, id: { type: "string" } },
  });
  const [command, email, ...rest] = positionals;
  if (rest.length) throw new Error(`Unexpected argument "${rest[0]}"`);
  if (!email) throw new Error("Give the account's email");
  return { command, email, values };
}
