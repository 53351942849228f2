/**
 * Slack `rich_text` blocks for text an agent wrote. Slack draws a rich-text `text` element as
 * written: no mrkdwn, so a backtick fence cannot be closed, `*` makes nothing bold, `<!channel>`
 * mentions no one and no section can be faked. Hidden characters are escaped (`shown-text.ts`)
 * before they get here. Pure.
 */
import type { Block } from './messages';

/** One run of text with its style: what a rich-text section is made of. */
export interface Run {
  readonly text: string;
  readonly style?: { readonly bold?: boolean; readonly italic?: boolean; readonly code?: boolean };
}

export const plain = (text: string): Run => ({ text });
export const bold = (text: string): Run => ({ text, style: { bold: true } });
export const italic = (text: string): Run => ({ text, style: { italic: true } });
export const code = (text: string): Run => ({ text, style: { code: true } });

/** Slack refuses an empty text element: an empty run is dropped. */
function elements(runs: readonly Run[]): Array<Record<string, unknown>> {
  return runs.filter((r) => r.text.length > 0).map((r) => ({ type: 'text', text: r.text, ...(r.style ? { style: r.style } : {}) }));
}

/** A line of runs. */
export function richSection(...runs: Run[]): Record<string, unknown> {
  return { type: 'rich_text_section', elements: elements(runs) };
}

/** A quoted paragraph (drawn with a bar beside it, so where it starts and ends is plain). */
export function richQuote(...runs: Run[]): Record<string, unknown> {
  return { type: 'rich_text_quote', elements: elements(runs) };
}

/** A preformatted block (monospace, wrapped, nothing inside it interpreted). */
export function richPreformatted(text: string): Record<string, unknown> {
  return { type: 'rich_text_preformatted', elements: elements([plain(text)]) };
}

/** A bulleted list, one line of runs per item. */
export function richBullets(items: readonly (readonly Run[])[]): Record<string, unknown> {
  return { type: 'rich_text_list', style: 'bullet', elements: items.map((runs) => richSection(...runs)) };
}

/** One `rich_text` block of the given parts. */
export function richText(...parts: Array<Record<string, unknown>>): Block {
  return { type: 'rich_text', elements: parts };
}
