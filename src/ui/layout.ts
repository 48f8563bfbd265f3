// The page shell every UI page shares: landmarks, skip link, navigation, and no script at all.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export type Section = 'overview' | 'timeline' | 'none';

export interface PageOptions { title: string; section: Section; signedIn: boolean; body: Html }

const navLink = (href: string, label: string, current: boolean) =>
  html`<a href="${href}"${current ? html` aria-current="page"` : ''}>${label}</a>`;

export function page(o: PageOptions): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${o.title} · kubetrail</title>
<link rel="stylesheet" href="/ui/style.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <nav aria-label="Main">
    <span class="brand">kubetrail</span>
    ${navLink('/', 'Clusters', o.section === 'overview')}
    ${navLink('/ui/timeline', 'Timeline', o.section === 'timeline')}
    ${o.signedIn ? html`<form method="post" action="/ui/logout" class="logout"><button type="submit">Sign out</button></form>` : ''}
  </nav>
</header>
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${o.body}
</main>
<footer><p>Recorded history, read from the git repository. Times are UTC.</p></footer>
</body>
</html>`;
}
