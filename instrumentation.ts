// Runs once when the server starts: migrations (and demo data on the embedded database) are
// applied before the first request, and a database that cannot be reached stops start-up.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { prepareAtStartup } = await import("./server/startup");
  await prepareAtStartup();
}
