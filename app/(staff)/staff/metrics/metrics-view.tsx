"use client";

import { useQuery } from "@tanstack/react-query";
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Summary } from "@/server/chat/metrics";
import { useTRPC } from "../../../_trpc/client";

const clock = new Intl.DateTimeFormat("en-IN", { hour: "2-digit", minute: "2-digit" });

function duration(seconds: number | null) {
  if (seconds === null) return "—";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** "4.2 of 5 (3 rated)", or "No ratings" — the average is already rounded by the database. */
function rating(average: number | null, rated: number) {
  return average === null ? "No ratings" : `${average} of 5 (${rated} rated)`;
}

function SummaryTable({ caption, s }: { caption: string; s: Summary }) {
  return (
    <table>
      <caption>
        {caption}: {s.requests} chats, {s.resolved} resolved
      </caption>
      <thead>
        <tr>
          <th scope="col">Measure</th>
          <th scope="col">Median</th>
          <th scope="col">90th percentile</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">Wait</th>
          <td>{duration(s.waitMedian)}</td>
          <td>{duration(s.waitP90)}</td>
        </tr>
        <tr>
          <th scope="row">First response</th>
          <td>{duration(s.firstResponseMedian)}</td>
          <td>{duration(s.firstResponseP90)}</td>
        </tr>
        <tr>
          <th scope="row">Resolution</th>
          <td>{duration(s.resolutionMedian)}</td>
          <td>{duration(s.resolutionP90)}</td>
        </tr>
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Player rating</th>
          <td colSpan={2}>{rating(s.ratingAverage, s.rated)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

/**
 * Today's and this week's times from the timeline and players' ratings, per-staff counts and
 * ratings, and waiting chats over today.
 */
export function MetricsView() {
  const trpc = useTRPC();
  const metrics = useQuery({ ...trpc.staff.metrics.queryOptions(), refetchOnWindowFocus: true });
  if (!metrics.data) return <p className="muted">Loading metrics…</p>;
  const m = metrics.data;
  const points = m.waiting.map((p) => ({ time: clock.format(new Date(p.at)), waiting: p.waiting }));
  return (
    <>
      <section className="card row wrap" aria-label="Times">
        <SummaryTable caption="Today" s={m.today} />
        <SummaryTable caption="This week" s={m.week} />
      </section>
      <section className="card" aria-labelledby="chart-heading">
        <h2 id="chart-heading">Waiting chats today</h2>
        <div style={{ width: "100%", height: 240 }} role="img" aria-label="Chart of waiting chats over today">
          <ResponsiveContainer>
            <AreaChart data={points}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="time" minTickGap={24} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Area type="stepAfter" dataKey="waiting" name="Waiting" stroke="#2563eb" fill="#93c5fd" />
            </AreaChart>
          </ResponsiveContainer>
        </div>
      </section>
      <section className="card">
        <table>
          <caption>This week per staff member</caption>
          <thead>
            <tr>
              <th scope="col">Staff</th>
              <th scope="col">Chats taken</th>
              <th scope="col">Resolved</th>
              <th scope="col">Player rating</th>
            </tr>
          </thead>
          <tbody>
            {m.staff.map((s) => (
              <tr key={s.userId}>
                <th scope="row">{s.name}</th>
                <td>{s.taken}</td>
                <td>{s.resolved}</td>
                <td>{rating(s.ratingAverage, s.rated)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
