import type { ConsoleSession } from '../../../ports/console-session-store.js';
import type { ConsoleApi } from './console-api.js';
import type { NavSection } from './layout.js';

/**
 * One console page, in its own file under pages/ and listed in pages/index.ts: a GET route under
 * /console that reads the JSON API as the session's principal (`api`) and renders the body of a page.
 * Adding a panel is adding one such file.
 */
export interface ConsolePage {
  /** Fastify route path, under /console. */
  readonly path: `/console${string}`;
  readonly section: NavSection;
  /** Only operators' sessions (not auditors'). */
  readonly operatorOnly?: boolean;
  render(context: PageContext): Promise<Rendered>;
}

export interface Rendered {
  readonly title: string;
  /** HTML made with ghtml's `html` (everything escaped). */
  readonly body: string;
}

export interface PageContext {
  readonly api: ConsoleApi;
  readonly session: ConsoleSession;
  readonly params: Readonly<Record<string, string>>;
  /** The query string's single values (a repeated parameter: its first value). */
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly nowMs: number;
}
