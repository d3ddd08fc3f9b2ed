import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Loaded from node_modules at run time: PGlite finds its wasm and data files beside itself.
  serverExternalPackages: ["@electric-sql/pglite", "pg", "pusher"],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
