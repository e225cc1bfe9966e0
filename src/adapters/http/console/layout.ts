import { html } from 'ghtml';
import type { ConsoleSession } from '../../../ports/console-session-store.js';
import { withQuery, type Query } from './console-api.js';

/**
 * The console's page shell and the few pieces every page uses. Templates are ghtml tagged templates:
 * every `${value}` is HTML-escaped; `!${fragment}` inserts a fragment built by `html` itself, and is
 * used for nothing else (never for data).
 */

/** Sections in the navigation bar, in order: a page names the one it belongs to. */
export const NAV = [
  { section: 'search', label: 'Search', href: '/console' },
  { section: 'books', label: 'Books', href: '/console/books' },
  { section: 'projections', label: 'Projections', href: '/console/projections' },
  { section: 'channels', label: 'Channels', href: '/console/channels' },
  { section: 'webhooks', label: 'Webhooks', href: '/console/webhooks' },
  { section: 'reconciliation', label: 'Reconciliation', href: '/console/reconciliation' },
  { section: 'sessions', label: 'Sessions', href: '/console/sessions' },
] as const;
export type NavSection = (typeof NAV)[number]['section'];

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1f2a37;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header a{color:#cfe0ff;text-decoration:none}header a.here{color:#fff;font-weight:600;border-bottom:2px solid #fff}
header form{margin-left:auto}main{padding:16px;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:8px 0;width:100%}
th,td{border:1px solid #d8dde3;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eef1f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.ok{color:#0a7d32;font-weight:600}.bad{color:#b42318;font-weight:600}.muted{color:#66707a}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;background:#fff;padding:8px;border:1px solid #d8dde3}
dt{font-weight:600}dd{margin:0}form.inline{display:inline}input,select,button{font:inherit;padding:2px 6px}
.problem{background:#fff4f2;border:1px solid #f3b5ab;padding:8px}details pre{white-space:pre-wrap;margin:4px 0}
`;

export interface Shell {
  readonly title: string;
  readonly section: NavSection;
  readonly session: ConsoleSession;
  readonly body: string;
}

/** A whole page: head, navigation (with the sign-out form and its CSRF token), the page's body. */
export function page(shell: Shell): string {
  const nav = NAV.filter((n) => n.section !== 'sessions' || shell.session.role === 'operator').map(
    (n) => html`<a href="${n.href}" class="${n.section === shell.section ? 'here' : ''}">${n.label}</a>`,
  );
  return `<!doctype html>${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width" />
      <meta name="referrer" content="no-referrer" />
      <title>${shell.title} · ledger console</title>
      <style>
        !${STYLE}
      </style>
    </head>
    <body>
      <header>
        <strong>ledger console</strong>!${nav}
        <span class="muted">${shell.session.role} ${shell.session.entityId}</span>
        <form method="post" action="/console/logout">
          <input type="hidden" name="csrf" value="${shell.session.csrfToken}" /><button>Sign out</button>
        </form>
      </header>
      <main>
        <h1>${shell.title}</h1>
        !${shell.body}
      </main>
    </body>
  </html>`}`;
}

/** A page for someone without a session (signed out, an expired or spent link). */
export function signedOutPage(message: string): string {
  return `<!doctype html>${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>ledger console</title>
      <style>
        !${STYLE}
      </style>
    </head>
    <body>
      <header><strong>ledger console</strong></header>
      <main>
        <h1>Sign in</h1>
        <p>${message}</p>
        <p>
          Run <code>ledger console login</code> with your operator key file and open the link it prints (once, within
          two minutes).
        </p>
      </main>
    </body>
  </html>`}`;
}

/** A console link: a path with its query, escaped where it is inserted. */
export function href(path: string, query: Query = {}): string {
  return withQuery(path, query);
}

/** One path segment of a console link. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** A definition list of scalar fields; objects and arrays are shown as JSON. */
export function fields(entries: readonly (readonly [string, unknown])[]): string {
  return html`<dl>
    !${entries.map(
      ([name, value]) =>
        html`<dt>${name}</dt>
          <dd>!${valueHtml(value)}</dd>`,
    )}
  </dl>`;
}

export function valueHtml(value: unknown): string {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  if (typeof value === 'string') return html`${value}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return html`${value.toString()}`;
  return html`<code>${JSON.stringify(value)}</code>`;
}

/** A table: the header names and the rows' cells (each cell a fragment made by `html`). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], empty = 'none'): string {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table>
    <thead>
      <tr>
        !${headers.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      !${rows.map(
        (cells) =>
          html`<tr>
            !${cells.map((c) => html`<td>!${c}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** A cell of text (escaped). */
export function cell(value: unknown): string {
  return valueHtml(value);
}

/** A right-aligned amount cell. */
export function amountCell(value: string): string {
  return html`<span class="num">${value}</span>`;
}

export function link(path: string, text: string): string {
  return html`<a href="${path}">${text}</a>`;
}

/** "Next page" when the API gave a cursor (the same query with it). */
export function nextPageLink(path: string, query: Query, nextCursor: string | null, field = 'cursor'): string {
  if (nextCursor === null) return html`<p class="muted">last page</p>`;
  return html`<p><a href="${href(path, { ...query, [field]: nextCursor })}" rel="next">Next page →</a></p>`;
}

/** A GET form of text and select inputs, for a page's filters. */
export function filterForm(
  action: string,
  inputs: readonly { name: string; label: string; value?: string | undefined; options?: readonly string[] }[],
  button = 'Show',
): string {
  return html`<form method="get" action="${action}">
    !${inputs.map((input) =>
      input.options
        ? html`<label
            >${input.label}
            <select name="${input.name}">
              !${input.options.map(
                (o) =>
                  html`<option value="${o}" !${o === (input.value ?? '') ? 'selected' : ''}>
                    ${o === '' ? 'any' : o}
                  </option>`,
              )}
            </select></label
          > `
        : html`<label>${input.label} <input name="${input.name}" value="${input.value ?? ''}" /></label> `,
    )}<button>${button}</button>
  </form>`;
}
