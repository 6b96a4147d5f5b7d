/** `/admin/products/gadgetbots/{id}/edit` (docs/target-contract.md §2.6): battery life is the only editable field. */
import type { Locator, Page } from '@playwright/test';

export class EditBotPage {
  constructor(private readonly page: Page) {}

  heading(botName: string): Locator {
    return this.page.getByRole('heading', { name: `Edit ${botName}`, exact: true });
  }

  get batteryLifeInput(): Locator {
    return this.page.getByRole('spinbutton', { name: /Battery Life/ });
  }

  get updateButton(): Locator {
    return this.page.getByRole('button', { name: 'Update GadgetBot' });
  }

  async setBatteryLife(hours: number): Promise<void> {
    await this.batteryLifeInput.fill(String(hours));
    await this.updateButton.click();
  }
}
