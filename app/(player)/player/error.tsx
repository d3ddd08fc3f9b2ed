"use client";

// A page rendered while the database was down heals by itself (see page-outage.tsx).
export { default } from "../../_realtime/page-outage";
