/** `/admin/products/gadgetbots/new` (docs/target-contract.md §2.4). */
import type { Locator, Page } from '@playwright/test';

export type BotTypeName = 'Cleaning Bot' | 'Gardening Bot' | 'Security Bot';

export class CreateBotPage {
  constructor(private readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'Create New GadgetBot', exact: true });
  }

  get nameInput(): Locator {
    return this.page.getByLabel('Name');
  }

  get typeCombobox(): Locator {
    return this.page.getByRole('combobox', { name: /Bot Type/ });
  }

  typeOption(type: BotTypeName): Locator {
    return this.page.getByRole('option', { name: type, exact: true });
  }

  get submitButton(): Locator {
    return this.page.getByRole('button', { name: 'Create GadgetBot' });
  }

  async fill(name: string, type: BotTypeName): Promise<void> {
    await this.nameInput.fill(name);
    await this.typeCombobox.click();
    await this.typeOption(type).click();
  }

  async submit(): Promise<void> {
    await this.submitButton.click();
  }
}
