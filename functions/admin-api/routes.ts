/**
 * Every route of the admin API, in the order the OpenAPI document and
 * docs/api.md list them by area.
 *
 * @module
 */

import type { RouteDefinition } from "./api.ts";
import { adminRoutes } from "./routes/admin.ts";
import { alertRoutes } from "./routes/alerts.ts";
import { botRoutes } from "./routes/bots.ts";
import { conversationRoutes } from "./routes/conversations.ts";
import { integrationRoutes } from "./routes/integrations.ts";
import { mediaRoutes } from "./routes/media.ts";
import { numberRoutes } from "./routes/numbers.ts";
import { templateRoutes } from "./routes/templates.ts";

/** The route table. */
export const ROUTES: RouteDefinition[] = [
  ...botRoutes,
  ...numberRoutes,
  ...templateRoutes,
  ...conversationRoutes,
  ...mediaRoutes,
  ...alertRoutes,
  ...adminRoutes,
  ...integrationRoutes,
];
