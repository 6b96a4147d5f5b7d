import { randomBytes } from 'node:crypto';
import { attachObservations, checkDetails, test } from '../test.ts';
import { createBot, deleteBot, editBatteryLife, viewBot } from '../flows/gadgetbots.ts';
import { sweepLeftovers } from '../api/app-api.ts';

test.use({ signedInAs: 'user-1' });

const SECURITY_BOT_BATTERY_HOURS = 24; // BOT_SPECS.security (docs/target-contract.md §2.2)
const EDITED_BATTERY_HOURS = 9.5;

test('e2e-admin-crud: create, view, edit and delete a GadgetBot through the admin UI', checkDetails('e2e-admin-crud', ['@mutating']), async ({ app, botJanitor, sentinel, page }) => {
  if (sentinel.allowMutations !== true) {
    test.info().annotations.push({ type: 'reason', description: 'not_permitted' });
    test.skip(true, 'admin CRUD changes data: set SENTINEL_ALLOW_MUTATIONS=true to allow it');
  }
  // <prefix>-<time of the run, base 36>-<random>: recognisable, unique, and sortable by age.
  const botName = `${sentinel.botPrefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  // Leftovers of killed runs; a failing sweep must not hide the check's own result.
  const swept = await sweepLeftovers(page.request, sentinel).catch((error: Error) => `sweep failed: ${error.message}`);
  await attachObservations({ botName, sweptLeftovers: swept });

  botJanitor.track(botName);
  await createBot(app, botName, 'Security Bot');
  await viewBot(app, botName, SECURITY_BOT_BATTERY_HOURS);
  await editBatteryLife(app, botName, EDITED_BATTERY_HOURS);
  await deleteBot(app, botName);
});
