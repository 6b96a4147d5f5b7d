/** `/`, the public homepage (docs/target-contract.md §1.3): where sign-out lands. */
import type { Locator, Page } from '@playwright/test';

export class HomePage {
  constructor(private readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: /GadgetBot\s*Rentals/, level: 1 });
  }
}
