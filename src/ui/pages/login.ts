// The sign-in form: the read token is posted once and exchanged for a session cookie (see session.ts).
import { html } from 'hono/html';
import type { Html } from '../layout.ts';

export function loginBody(o: { next: string; error?: string }): Html {
  return html`<form class="login" method="post" action="/ui/login">
<p>The history is readable with the API's read token (the one for <code>Authorization: Bearer</code>).</p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<div class="field"><label>Read token <input type="password" name="token" autocomplete="current-password" required></label></div>
<input type="hidden" name="next" value="${o.next}">
<button type="submit">Sign in</button>
</form>`;
}

export function messageBody(message: string): Html {
  return html`<p>${message}</p><p><a href="/">Back to the clusters</a></p>`;
}
