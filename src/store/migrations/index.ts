import type { Migration } from 'kysely';
import type { Dialect } from '../dialect.js';
import { coreMigration } from './001-core.js';
import { webhooksMigration } from './002-webhooks.js';
import { baileysMigration } from './003-baileys.js';
import { dashboardMigration } from './004-dashboard.js';
import { usageHoursMigration } from './005-usage-hours.js';
import { requestBoundsMigration } from './006-request-bounds.js';
import { repairEditedMigrationsMigration } from './007-repair-edited-migrations.js';
import { keyNamesMigration } from './008-key-names.js';
import { messageContentMigration } from './010-message-content.js';
import { eventLogMigration } from './011-event-log.js';
import { queueFieldsMigration } from './012-queue-fields.js';
import { inboundMigration } from './013-inbound.js';
import { lidsAndHeldMediaMigration } from './014-lids-and-held-media.js';
import { sessionCallsMigration } from './015-session-calls.js';
import { scaleOutMigration } from './016-scale-out.js';

/**
 * Every migration in order. Add new ones at the end with the next number; never edit a released one
 * (test/store/released-migrations.json holds their hashes, and the suite fails when one changes).
 */
export function allMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '001-core': coreMigration(dialect),
    '002-webhooks': webhooksMigration(dialect),
    '003-baileys': baileysMigration(dialect),
    '004-dashboard': dashboardMigration(dialect),
    '005-usage-hours': usageHoursMigration(dialect),
    '006-request-bounds': requestBoundsMigration(),
    '007-repair-edited-migrations': repairEditedMigrationsMigration(dialect),
    '008-key-names': keyNamesMigration(dialect),
    '010-message-content': messageContentMigration(),
    '011-event-log': eventLogMigration(),
    '012-queue-fields': queueFieldsMigration(),
    '013-inbound': inboundMigration(dialect),
    '014-lids-and-held-media': lidsAndHeldMediaMigration(),
    '015-session-calls': sessionCallsMigration(),
    '016-scale-out': scaleOutMigration(),
  };
}
