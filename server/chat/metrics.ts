import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";

/**
 * Floor metrics, all derived from the timeline (chat_events) plus the request's first staff reply:
 * wait = created → first time a staff member had it (claimed, auto-assigned, taken over);
 * first response = created → first staff message; resolution = created → last resolve.
 * Ratings (chat_ratings, 1–5) are averaged in the database to one decimal; null when none.
 * Windows start at midnight and at Monday 00:00 in the database's time zone.
 */
export type Summary = {
  requests: number;
  resolved: number;
  waitMedian: number | null;
  waitP90: number | null;
  firstResponseMedian: number | null;
  firstResponseP90: number | null;
  resolutionMedian: number | null;
  resolutionP90: number | null;
  /** Chats of the period the player rated, and their average rating. */
  rated: number;
  ratingAverage: number | null;
};

const perRequest = (since: ReturnType<typeof sql>) => sql`
  with r as (
    select e.request_id,
      min(e.at) filter (where e.type = 'created') as created,
      min(e.at) filter (where e.type in ('claimed', 'auto_assigned', 'taken_over')) as assigned,
      max(e.at) filter (where e.type = 'resolved') as resolved
    from chat_events e
    group by e.request_id
    having min(e.at) filter (where e.type = 'created') >= ${since}
  )
  select
    count(*)::int as requests,
    count(r.resolved)::int as resolved,
    percentile_cont(0.5) within group (order by extract(epoch from r.assigned - r.created)) as "waitMedian",
    percentile_cont(0.9) within group (order by extract(epoch from r.assigned - r.created)) as "waitP90",
    percentile_cont(0.5) within group (order by extract(epoch from q.first_response_at - r.created)) as "firstResponseMedian",
    percentile_cont(0.9) within group (order by extract(epoch from q.first_response_at - r.created)) as "firstResponseP90",
    percentile_cont(0.5) within group (order by extract(epoch from r.resolved - r.created)) as "resolutionMedian",
    percentile_cont(0.9) within group (order by extract(epoch from r.resolved - r.created)) as "resolutionP90",
    count(rt.rating)::int as rated,
    round(avg(rt.rating), 1) as "ratingAverage"
  from r join chat_requests q on q.id = r.request_id
  left join chat_ratings rt on rt.request_id = r.request_id`;

const today = sql`date_trunc('day', now())`;
const thisWeek = sql`date_trunc('week', now())`;

/** A numeric column (drivers answer strings for `numeric`) as a number, or null. */
const decimal = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function summary(db: Db, since: ReturnType<typeof sql>): Promise<Summary> {
  const [row = {}] = await rowsOf<Record<string, unknown>>(db, perRequest(since));
  const n = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v)));
  return {
    requests: Number(row.requests ?? 0),
    resolved: Number(row.resolved ?? 0),
    waitMedian: n(row.waitMedian),
    waitP90: n(row.waitP90),
    firstResponseMedian: n(row.firstResponseMedian),
    firstResponseP90: n(row.firstResponseP90),
    resolutionMedian: n(row.resolutionMedian),
    resolutionP90: n(row.resolutionP90),
    rated: Number(row.rated ?? 0),
    ratingAverage: decimal(row.ratingAverage),
  };
}

/**
 * This week, per staff member: chats they took (any way) and chats they resolved, from the
 * timeline; and the ratings players gave this week to chats that member closed (the holder when
 * it was resolved), with their average.
 */
async function perStaff(db: Db) {
  const rows = await rowsOf<{
    userId: string;
    name: string;
    taken: number;
    resolved: number;
    rated: number;
    ratingAverage: unknown;
  }>(
    db,
    sql`
    with ev as (
      select coalesce(e.target_user_id, e.actor_user_id) as user_id,
        min(coalesce(e.target_name, e.actor_name)) as name,
        (count(*) filter (where e.type in ('claimed', 'auto_assigned', 'taken_over', 'transferred')))::int as taken,
        (count(*) filter (where e.type = 'resolved'))::int as resolved
      from chat_events e
      where e.at >= ${thisWeek}
        and e.type in ('claimed', 'auto_assigned', 'taken_over', 'transferred', 'resolved')
        and coalesce(e.target_user_id, e.actor_user_id) is not null
      group by 1
    ), rt as (
      select q.assigned_staff_id as user_id, count(*)::int as rated, round(avg(g.rating), 1) as average
      from chat_ratings g join chat_requests q on q.id = g.request_id
      where g.created_at >= ${thisWeek} and q.assigned_staff_id is not null
      group by 1
    )
    select coalesce(ev.user_id, rt.user_id) as "userId",
      coalesce(ev.name, s.display_name) as name,
      coalesce(ev.taken, 0) as taken,
      coalesce(ev.resolved, 0) as resolved,
      coalesce(rt.rated, 0) as rated,
      rt.average as "ratingAverage"
    from ev
    full join rt on rt.user_id = ev.user_id
    left join staff s on s.user_id = coalesce(ev.user_id, rt.user_id)
    order by resolved desc, taken desc`,
  );
  return rows.map((r) => ({ ...r, ratingAverage: decimal(r.ratingAverage) }));
}

/**
 * Requests waiting at each quarter hour of today: created by then and not yet with staff or
 * resolved. A chat released back to the queue counts from its first wait only.
 */
async function waitingOverToday(db: Db) {
  const rows = await rowsOf<{ at: Date | string; waiting: number }>(
    db,
    sql`
    with r as (
      select e.request_id,
        min(e.at) filter (where e.type = 'created') as created,
        min(e.at) filter (where e.type in ('claimed', 'auto_assigned', 'taken_over', 'resolved')) as left_queue
      from chat_events e
      where e.at >= ${today} - interval '1 day'
      group by e.request_id
    )
    select t.at, (count(r.request_id) filter (where r.created <= t.at and (r.left_queue is null or r.left_queue > t.at)))::int as waiting
    from generate_series(${today}, now(), interval '15 minutes') as t(at)
    left join r on true
    group by t.at
    order by t.at`,
  );
  return rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    waiting: Number(r.waiting),
  }));
}

export async function floorMetrics(db: Db) {
  const [day, week, staff, waiting] = await Promise.all([
    summary(db, today),
    summary(db, thisWeek),
    perStaff(db),
    waitingOverToday(db),
  ]);
  return { today: day, week, staff, waiting };
}

/** What a waiting player is told: the median wait of the last 20 chats taken in the past 2 hours. */
export async function expectedWaitSeconds(db: Db): Promise<number | null> {
  const [row] = await rowsOf<{ median: unknown }>(
    db,
    sql`
    with recent as (
      select extract(epoch from a.at - c.at) as wait
      from chat_events a
      join chat_events c on c.request_id = a.request_id and c.type = 'created'
      where a.type in ('claimed', 'auto_assigned', 'taken_over') and a.at > now() - interval '2 hours'
      order by a.at desc
      limit 20
    )
    select percentile_cont(0.5) within group (order by wait) as median from recent`,
  );
  const median = row?.median;
  return median === null || median === undefined ? null : Math.round(Number(median));
}
