import Link from "next/link";
import { requireRole } from "../../../_auth/guards";
import { SearchView } from "./search-view";

export const metadata = { title: "Search · Floorline staff" };

export default async function SearchPage() {
  await requireRole(["staff", "admin"], "/staff/search");
  return (
    <main className="admin-page stack">
      <header className="row">
        <h1>Search past chats</h1>
        <Link href="/staff">Queue</Link>
        <Link href="/staff/metrics">Metrics</Link>
      </header>
      <SearchView />
    </main>
  );
}
