import type { Migration } from 'kysely';
import type { Dialect } from '../dialect.js';
import { coreMigration } from './001-core.js';
import { webhooksMigration } from './002-webhooks.js';
import { baileysMigration } from './003-baileys.js';
import { dashboardMigration } from './004-dashboard.js';
import { usageHoursMigration } from './005-usage-hours.js';
import { requestBoundsMigration } from './006-request-bounds.js';
import { messageContentMigration } from './010-message-content.js';

/** Every migration in order. Add new ones at the end with the next number; never edit a released one. */
export function allMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '001-core': coreMigration(dialect),
    '002-webhooks': webhooksMigration(dialect),
    '003-baileys': baileysMigration(dialect),
    '004-dashboard': dashboardMigration(dialect),
    '005-usage-hours': usageHoursMigration(dialect),
    '006-request-bounds': requestBoundsMigration(),
    '010-message-content': messageContentMigration(),
  };
}
