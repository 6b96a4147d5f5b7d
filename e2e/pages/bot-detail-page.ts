/** `/admin/products/gadgetbots/{id}` and its "Confirm Deletion" dialog (docs/target-contract.md §2.5). */
import type { Locator, Page } from '@playwright/test';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class BotDetailPage {
  constructor(private readonly page: Page) {}

  heading(botName: string): Locator {
    return this.page.getByRole('heading', { name: botName, exact: true, level: 1 });
  }

  /** The DOM text is `"24hours"` (number and unit in two spans), so match with optional space. */
  batteryLife(hours: number): Locator {
    return this.page.getByText(new RegExp(`^\\s*${escapeRegExp(String(hours))}\\s*hours\\s*$`));
  }

  get editLink(): Locator {
    return this.page.getByRole('link', { name: 'Edit', exact: true });
  }

  get deleteButton(): Locator {
    return this.page.getByRole('button', { name: 'Delete', exact: true });
  }

  async openEdit(): Promise<void> {
    await this.editLink.click();
  }

  async openDelete(): Promise<void> {
    await this.deleteButton.click();
  }
}

export class DeleteDialog {
  constructor(private readonly page: Page) {}

  get dialog(): Locator {
    return this.page.getByRole('dialog', { name: 'Confirm Deletion' });
  }

  description(botName: string): Locator {
    return this.dialog.getByText(`Are you sure you want to delete "${botName}"? This action cannot be undone.`);
  }

  get confirmButton(): Locator {
    return this.dialog.getByRole('button', { name: 'Delete', exact: true });
  }

  get cancelButton(): Locator {
    return this.dialog.getByRole('button', { name: 'Cancel', exact: true });
  }

  async confirm(): Promise<void> {
    await this.confirmButton.click();
  }
}
