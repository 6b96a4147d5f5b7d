/** GadgetBot CRUD through the admin UI (docs/target-contract.md §2.3–§2.6), built from page objects. */
import { expect } from '@playwright/test';
import type { App } from '../pages/app.ts';
import type { BotTypeName } from '../pages/create-bot-page.ts';
import { failWith, withReason } from '../support/check-annotations.ts';

/** Waits for the page to reach `pathname`, or turns an alert() the app raised instead into the failure. */
async function expectNavigationOrAlert(app: App, pathname: RegExp, action: string, rpc: string): Promise<void> {
  try {
    await expect
      .poll(() => app.traffic.alerts.length > 0 || pathname.test(app.currentUrl().pathname), { timeout: app.config.timeouts.actionMs, intervals: [100] })
      .toBe(true);
  } catch {
    failWith('timeout', `${action}: the app stayed on ${app.currentUrl().pathname}`);
  }
  const alert = app.traffic.alerts[0];
  if (alert !== undefined) {
    const call = app.traffic.lastApiCall(`/api/rpc/gadgetbots/${rpc}`);
    failWith(call && call.status >= 400 ? 'http_status' : 'assertion', `${action} failed: the app alerted "${alert}" (POST /api/rpc/gadgetbots/${rpc} answered ${call?.status ?? 'nothing'})`);
  }
}

export async function createBot(app: App, name: string, type: BotTypeName): Promise<void> {
  await app.products.goto();
  await withReason('assertion', () => expect(app.products.heading).toBeVisible());
  await app.products.openAddNew();
  await withReason('assertion', () => expect(app.createBot.heading).toBeVisible());
  await app.createBot.fill(name, type);
  await app.createBot.submit();
  await expectNavigationOrAlert(app, /^\/admin\/products\/?$/, 'create', 'create');
  // The list query is not invalidated after a mutation (docs/target-contract.md §2.3): let the assertion retry.
  await withReason('assertion', () => expect(app.products.row(name)).toBeVisible());
}

export async function viewBot(app: App, name: string, batteryHours: number): Promise<void> {
  await app.products.openBot(name);
  await withReason('assertion', async () => {
    await expect(app.botDetail.heading(name)).toBeVisible();
    await expect(app.botDetail.batteryLife(batteryHours)).toBeVisible();
  });
}

export async function editBatteryLife(app: App, name: string, hours: number): Promise<void> {
  await app.botDetail.openEdit();
  await withReason('assertion', () => expect(app.editBot.heading(name)).toBeVisible());
  await app.editBot.setBatteryLife(hours);
  await expectNavigationOrAlert(app, /^\/admin\/products\/gadgetbots\/[^/]+\/?$/, 'update', 'update');
  await withReason('assertion', async () => {
    await expect(app.botDetail.heading(name)).toBeVisible();
    await expect(app.botDetail.batteryLife(hours)).toBeVisible();
  });
}

export async function deleteBot(app: App, name: string): Promise<void> {
  await app.botDetail.openDelete();
  await withReason('assertion', async () => {
    await expect(app.deleteDialog.dialog).toBeVisible();
    await expect(app.deleteDialog.description(name)).toBeVisible();
  });
  await app.deleteDialog.confirm();
  await expectNavigationOrAlert(app, /^\/admin\/products\/?$/, 'delete', 'deleteById');
  await withReason('assertion', async () => {
    await expect(app.products.heading).toBeVisible();
    await expect(app.products.row(name)).toHaveCount(0);
  });
}
