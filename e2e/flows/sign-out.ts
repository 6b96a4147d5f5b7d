/** Sign-out through the user menu (docs/target-contract.md §3.6): lands on the homepage. */
import { expect } from '@playwright/test';
import type { App } from '../pages/app.ts';
import { withReason } from '../support/check-annotations.ts';

export async function signOutThroughMenu(app: App): Promise<void> {
  await app.layout.signOut();
  await withReason('assertion', async () => {
    await expect.poll(() => app.currentUrl().pathname, { timeout: app.config.timeouts.actionMs }).toBe('/');
    await expect(app.home.heading).toBeVisible();
  });
}
