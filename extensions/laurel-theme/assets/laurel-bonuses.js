/* global window */
// Laurel bonuses, docs/bonuses.md: the Birthday block's form and the Social follow block's
// claims, posted to /apps/loyalty/birthday and /apps/loyalty/social-follow; messages from the
// block's data-* (locales/). The follow link opens as any link does.
(() => {
  'use strict';
  const w = window;
  const d = w.document;
  if (w.LaurelBonuses) return;
  w.LaurelBonuses = true;

  async function send(box, path, body) {
    const status = box.querySelector('[data-laurel-bonus-status]');
    const say = (text, n) => (status.textContent = text.replace('%n', n));
    try {
      const r = await w.fetch(box.dataset.root.replace(/\/?$/, '/apps/loyalty/') + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const b = await r.json();
      if (r.status === 429) return say(box.dataset.wait, 0);
      if (!r.ok) return say(b.error?.message ?? box.dataset.failed, 0);
      const n = b.pointsAwarded;
      say(n > 0 ? box.dataset.awarded : (box.dataset.saved ?? box.dataset.claimed), n);
    } catch {
      say(box.dataset.failed, 0);
    }
  }

  function init() {
    for (const box of d.querySelectorAll('[data-laurel-bonus]')) {
      const form = box.querySelector('[data-laurel-bonus-form]');
      form?.addEventListener('submit', (e) => {
        e.preventDefault();
        send(box, 'birthday', { month: form.month.value, day: form.day.value });
      });
      for (const a of box.querySelectorAll('[data-laurel-follow]')) {
        a.addEventListener('click', () =>
          send(box, 'social-follow', { network: a.dataset.laurelFollow }),
        );
      }
    }
  }

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', init);
  else init();
})();
