/**
 * The stand-in theme of the storefront preview (development only): the HTML around the theme
 * extension's blocks — a plain layout in system fonts with tiny CSS, the preview's own controls (the
 * shopper and the language) and nothing that loads or moves: no web font, no favicon request, no
 * script of its own, no external URL. app/storefront-preview.server.ts fills it.
 */

export const PREVIEW_PATH = '/dev/preview';

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const LANGUAGE_NAMES: Record<string, string> = { en: 'English', fr: 'Français' };

export interface ThemeStrings {
  account: string;
  addToCart: string;
  noCart: string;
}

/** The stand-in theme's own strings (the blocks' come from the extension's locales). */
const THEME_STRINGS: Record<string, ThemeStrings> = {
  en: { account: 'Your account', addToCart: 'Add to cart', noCart: 'The preview has no cart' },
  fr: {
    account: 'Votre compte',
    addToCart: 'Ajouter au panier',
    noCart: "L'aperçu n'a pas de panier",
  },
};

export function themeStrings(locale: string): ThemeStrings {
  return THEME_STRINGS[locale] ?? THEME_STRINGS.en!;
}

/**
 * The theme's own style: system fonts, nothing loaded, nothing that moves after first paint. The
 * selects have fixed widths: sized by their longest option, they could move what follows them when
 * a glyph falls back to another font after first paint.
 */
const THEME_CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
a{color:#0b5394}
.dev-bar{background:#fff8c5;border-bottom:1px solid #d4a72c;padding:.5rem 1rem;font-size:.875rem}
.dev-bar form,.dev-bar nav{display:inline-flex;gap:.5rem;align-items:center;margin-right:1.5rem}
.dev-bar select{width:22rem}
.site-header{border-bottom:1px solid #d0d7de;padding:1rem}
.site-header a{font-weight:700;font-size:1.25rem;color:inherit;text-decoration:none}
main{max-width:60rem;margin:0 auto;padding:1rem;display:grid;gap:2rem}
.product{display:grid;gap:.75rem}
.product h1{margin:0;font-size:1.75rem}
.product-form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.product-form select,.product-form button{font:inherit;padding:.4rem .6rem}
.product-form select{width:16rem}
`;

/** Liquid money (hundredths) as the stand-in theme prints it. */
export function formatLiquidMoney(hundredths: number, currency: string, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(hundredths / 100);
}

export interface ChooserMember {
  externalId: string;
  name: string;
  /** From the ledger, for comparison with what the blocks show. */
  balance: number;
}

/** The preview's controls: who is shopping and in which language. */
export interface Controls {
  members: readonly ChooserMember[] | undefined;
  /** The storefront languages, primary first. */
  locales: readonly string[];
  customerId: string | null;
  locale: string;
  /**
   * The demo products the page can show (handle, title), the first the default, and the one shown
   * (undefined: a page without a product, the app proxy's).
   */
  products?: readonly { handle: string; title: string }[];
  product?: string;
}

function previewHref(
  customerId: string | null,
  locale: string,
  primary: string,
  product?: string,
  defaultProduct?: string,
): string {
  const query = new URLSearchParams();
  if (customerId) query.set('customer', customerId);
  if (locale !== primary) query.set('locale', locale);
  if (product && product !== defaultProduct) query.set('product', product);
  const text = query.toString();
  return text ? `${PREVIEW_PATH}?${text}` : PREVIEW_PATH;
}

function controlsBar(controls: Controls): string {
  const primary = controls.locales[0]!;
  const selected = controls.customerId ?? '';
  const options = [
    `<option value=""${selected === '' ? ' selected' : ''}>Logged out</option>`,
    ...(controls.members ?? []).map(
      (m) =>
        `<option value="${escapeHtml(m.externalId)}" data-balance="${m.balance}"${m.externalId === selected ? ' selected' : ''}>${escapeHtml(m.name)} · ${m.balance.toLocaleString('en-US')} points in the ledger</option>`,
    ),
  ].join('');
  const languages = controls.locales
    .map((code) => {
      const name = escapeHtml(LANGUAGE_NAMES[code] ?? code);
      return code === controls.locale
        ? `<strong aria-current="page">${name}</strong>`
        : `<a href="${escapeHtml(previewHref(controls.customerId, code, primary, controls.product, controls.products?.[0]?.handle))}" hreflang="${escapeHtml(code)}">${name}</a>`;
    })
    .join(' ');
  const defaultProduct = controls.products?.[0]?.handle;
  const keepLocale =
    (controls.locale === primary
      ? ''
      : `<input type="hidden" name="locale" value="${escapeHtml(controls.locale)}">`) +
    (controls.product && controls.product !== defaultProduct
      ? `<input type="hidden" name="product" value="${escapeHtml(controls.product)}">`
      : '');
  // The demo's products (its early-access matcha among them), each a link keeping the shopper.
  const products =
    controls.product && controls.products && controls.products.length > 1
      ? `<nav aria-label="Demo products">${controls.products
          .map((p) =>
            p.handle === controls.product
              ? `<strong aria-current="page">${escapeHtml(p.title)}</strong>`
              : `<a href="${escapeHtml(previewHref(controls.customerId, controls.locale, primary, p.handle, defaultProduct))}">${escapeHtml(p.title)}</a>`,
          )
          .join(' ')}</nav>`
      : '';
  return `<div class="dev-bar" data-preview-controls>
<form method="get" action="${PREVIEW_PATH}"><label for="preview-customer">Shopper</label>
<select id="preview-customer" name="customer">${options}</select>
${keepLocale}<button type="submit">Preview</button></form>
<nav aria-label="Storefront language">${languages}</nav>
${products}<span>Storefront preview · development only</span>
</div>`;
}

export interface ThemePage {
  title: string;
  lang: string;
  /** Tags Shopify adds to the head for the blocks (their stylesheets and deferred scripts). */
  head: string;
  controls: Controls;
  shopName: string;
  rootUrl: string;
  /** The template's content, inside <main>. */
  main: string;
  /** App embeds, placed before </body> as Shopify places them. */
  embeds: string;
}

function htmlDocument(page: { title: string; lang: string; head: string; body: string }): string {
  return `<!doctype html>
<html lang="${escapeHtml(page.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<link rel="icon" href="data:,">
<style>${THEME_CSS}</style>
${page.head}</head>
<body>
${page.body}
</body>
</html>
`;
}

/** A storefront page of the stand-in theme: controls, header, the template, then the embeds. */
export function themePage(page: ThemePage): string {
  return htmlDocument({
    title: page.title,
    lang: page.lang,
    head: page.head,
    body: `${controlsBar(page.controls)}
<header class="site-header"><a href="${escapeHtml(page.rootUrl)}">${escapeHtml(page.shopName)}</a></header>
<main>
${page.main}
</main>
${page.embeds}`,
  });
}

/** The page for a problem: the controls (when the members could be read) and the reason. */
export function problemPage(message: string, controls: Controls): string {
  return htmlDocument({
    title: 'Storefront preview (development)',
    lang: 'en',
    head: '',
    body: `${controlsBar(controls)}
<main><h1>Storefront preview</h1><p role="alert">${escapeHtml(message)}</p></main>`,
  });
}
