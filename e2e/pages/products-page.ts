/** `/admin/products`, the GadgetBot table (docs/target-contract.md §2.3). */
import type { Locator, Page } from '@playwright/test';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class ProductsPage {
  constructor(private readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'GadgetBot Products', exact: true });
  }

  /** The empty state renders a second "Add New GadgetBot"; both lead to the same form (docs/target-contract.md §2.3). */
  get addNewButton(): Locator {
    return this.page.getByRole('link', { name: 'Add New GadgetBot' }).first();
  }

  row(botName: string): Locator {
    return this.page.getByRole('row', { name: new RegExp(escapeRegExp(botName)) });
  }

  viewLink(botName: string): Locator {
    return this.row(botName).getByRole('link', { name: 'View' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/admin/products');
  }

  async openAddNew(): Promise<void> {
    await this.addNewButton.click();
  }

  async openBot(botName: string): Promise<void> {
    await this.viewLink(botName).click();
  }
}
