import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NextConfig } from "next";

/**
 * The browser-safe settings (`NEXT_PUBLIC_SUPABASE_URL`,
 * `NEXT_PUBLIC_SUPABASE_ANON_KEY`) come from the environment; when unset,
 * from the repository's `.env.local` (a hosted project, per the runbook) and
 * then `.env.example` (the local stack's defaults). Only `NEXT_PUBLIC_`
 * variables are read from those files: nothing else may reach the bundle.
 */
function loadPublicDefaults(): void {
  for (const file of [".env.local", ".env.example"]) {
    const path = join(process.cwd(), "..", file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const match = /^\s*(NEXT_PUBLIC_[A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (match === null) continue;
      const [, name, rawValue] = match as unknown as [string, string, string];
      const value = rawValue.replace(/^(["'])(.*)\1$/, "$2");
      if (process.env[name] === undefined || process.env[name] === "") process.env[name] = value;
    }
  }
}
loadPublicDefaults();

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // A separate output folder lets the end-to-end build run beside `next dev`.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  turbopack: { root: process.cwd() },
  // `next dev` serves its own scripts only to these hosts: open the console
  // as localhost or 127.0.0.1 alike.
  allowedDevOrigins: ["localhost", "127.0.0.1"],
};

export default nextConfig;
