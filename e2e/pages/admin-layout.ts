/** The admin header on every `/admin/*` page and its user menu (docs/target-contract.md §1.5). */
import type { Locator, Page } from '@playwright/test';

export class AdminLayout {
  constructor(private readonly page: Page) {}

  get title(): Locator {
    return this.page.getByRole('heading', { name: 'GadgetBot Admin', exact: true });
  }

  /**
   * The only button in the header (a Radix menu trigger). Its accessible name is the user's display
   * name or only initials on narrow screens, so it is found by place, not name; the attribute form
   * is the contract's robust fallback when the header is not exposed as a banner landmark.
   */
  get userMenuTrigger(): Locator {
    return this.page.getByRole('banner').getByRole('button').or(this.page.locator('header button[aria-haspopup="menu"]'));
  }

  get userMenu(): Locator {
    return this.page.getByRole('menu');
  }

  get signOutItem(): Locator {
    return this.userMenu.getByRole('menuitem', { name: 'Sign Out' });
  }

  async signOut(): Promise<void> {
    await this.userMenuTrigger.click();
    await this.signOutItem.click();
  }
}
