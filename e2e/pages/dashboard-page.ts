/** `/admin`, the dashboard (docs/target-contract.md §1.6). */
import type { Locator, Page } from '@playwright/test';

export class DashboardPage {
  constructor(private readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'Admin Dashboard', exact: true });
  }

  async goto(): Promise<void> {
    await this.page.goto('/admin');
  }

  async reload(): Promise<void> {
    await this.page.reload();
  }
}
