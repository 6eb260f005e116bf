/* global window */
// Laurel referrals, docs/storefront.md: copy and share the member's link (the Refer a friend block
// and the launcher's referral section, rendered in Liquid), and the note a friend sees when a
// share link brought them here (?laurel_referral=1). Fetches nothing.
(() => {
  'use strict';
  const w = window;
  const d = w.document;
  if (w.LaurelReferral) return; // loaded by the block and the launcher: one copy runs
  w.LaurelReferral = true;

  function wire(box) {
    const $ = (hook) => box.querySelector(`[data-laurel-referral-${hook}]`);
    const url = $('url');
    const share = $('share');
    const status = $('status');
    if (!url) return; // logged out, or the code is on its way: nothing to copy
    const say = (name) => (status.textContent = box.dataset[name]);
    $('copy').addEventListener('click', async () => {
      try {
        await w.navigator.clipboard.writeText(url.value);
        say('copied');
      } catch {
        url.select();
        say(d.execCommand('copy') ? 'copied' : 'selected');
      }
    });
    // The native share sheet where the browser has one; elsewhere the link opens an email.
    if (w.navigator.share) {
      share.addEventListener('click', (event) => {
        event.preventDefault();
        const { title, text } = share.dataset;
        w.navigator.share({ title, text, url: url.value }).catch(() => {});
      });
    }
  }

  function welcome() {
    const note = d.querySelector('[data-laurel-welcome]');
    const query = new w.URLSearchParams(w.location.search);
    if (!note || query.get('laurel_referral') !== '1') return;
    note.hidden = false;
    note.querySelector('[data-laurel-welcome-close]').addEventListener('click', () => {
      note.hidden = true;
    });
    // Said once: a reload, or the address copied from here, does not say it again.
    query.delete('laurel_referral');
    const search = query.toString();
    const { pathname, hash } = w.location;
    w.history.replaceState(w.history.state, '', pathname + (search && `?${search}`) + hash);
  }

  function init() {
    for (const box of d.querySelectorAll('[data-laurel-referral]')) wire(box);
    welcome();
  }

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', init);
  else init();
})();
