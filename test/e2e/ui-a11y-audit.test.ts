import { describe, expect } from 'vitest';
import { auditPage } from './ui-a11y-audit.js';
import { browserSuite } from './ui-browser.js';

// The audit the UI flow relies on must itself catch what it claims to catch.
describe('accessibility audit', () => {
  const ui = browserSuite('a11y-audit');

  ui.it('flags unlabelled controls and low-contrast text, and passes good markup', async () => {
    const page = ui.page;
    await page.setContent('<body style="background:#fff"><p style="color:#ccc">low contrast</p><p style="color:#222">fine</p><input id="x"><label>ok <input></label><button></button><button>Save</button></body>');
    expect((await page.evaluate(auditPage)).sort()).toEqual(['contrast 1.61:1 on "low contrast" (p)', 'no accessible name: button', 'no accessible name: input#x']);
    await page.setContent('<body style="background:#111;color:#eee"><h1>Logs</h1><label for="m">Model</label><input id="m"><button aria-label="Close">×</button></body>');
    expect(await page.evaluate(auditPage)).toEqual([]);
  });
});
