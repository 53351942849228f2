/**
 * Block Kit as Slack checks it, for the fake Slack: a message or view whose blocks Slack would
 * answer `invalid_blocks` is answered so here, so a test cannot pass on a message production
 * would refuse. The rules are Slack's published limits for the blocks Gatehouse renders (section,
 * context, actions, input, divider, header, rich_text); any other block type is refused.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems of a text object (`plain_text` / `mrkdwn`), `max` characters at most. */
function textObject(v: unknown, at: string, max: number, kinds: readonly string[] = ['plain_text', 'mrkdwn']): string[] {
  if (!isObject(v) || !kinds.includes(String(v.type))) return [`${at}: expected a ${kinds.join(' or ')} text object`];
  if (typeof v.text !== 'string' || v.text.length === 0) return [`${at}.text: must be more than 0 characters`];
  if (v.text.length > max) return [`${at}.text: must be less than ${max + 1} characters`];
  return [];
}

const INLINE = new Set(['text', 'link', 'emoji', 'user', 'channel', 'usergroup', 'date', 'broadcast', 'color']);
const STYLE_KEYS = new Set(['bold', 'italic', 'strike', 'code', 'underline']);

function inlineElements(v: unknown, at: string): string[] {
  if (!Array.isArray(v)) return [`${at}: expected an array of rich text elements`];
  return v.flatMap((e, i) => {
    const here = `${at}[${i}]`;
    if (!isObject(e) || !INLINE.has(String(e.type))) return [`${here}: not a rich text element`];
    if (e.type === 'text' && (typeof e.text !== 'string' || e.text.length === 0)) return [`${here}.text: must be more than 0 characters`];
    if (e.style !== undefined && (!isObject(e.style) || Object.keys(e.style).some((k) => !STYLE_KEYS.has(k)))) return [`${here}.style: unknown style`];
    return [];
  });
}

function richText(b: Json, at: string): string[] {
  if (!Array.isArray(b.elements) || b.elements.length === 0) return [`${at}.elements: expected a non-empty array`];
  return b.elements.flatMap((e: unknown, i: number) => {
    const here = `${at}.elements[${i}]`;
    if (!isObject(e)) return [`${here}: not an object`];
    switch (e.type) {
      case 'rich_text_section':
      case 'rich_text_quote':
      case 'rich_text_preformatted':
        return inlineElements(e.elements, `${here}.elements`);
      case 'rich_text_list':
        if (e.style !== 'bullet' && e.style !== 'ordered') return [`${here}.style: bullet or ordered`];
        if (!Array.isArray(e.elements) || e.elements.length === 0) return [`${here}.elements: expected a non-empty array`];
        return e.elements.flatMap((s: unknown, j: number) => (isObject(s) && s.type === 'rich_text_section' ? inlineElements(s.elements, `${here}.elements[${j}].elements`) : [`${here}.elements[${j}]: expected a rich_text_section`]));
      default:
        return [`${here}: unknown rich text block element \`${String(e.type)}\``];
    }
  });
}

function button(e: Json, at: string): string[] {
  const out = textObject(e.text, `${at}.text`, 75, ['plain_text']);
  if (typeof e.action_id !== 'string' || e.action_id.length > 255) out.push(`${at}.action_id: 1 to 255 characters`);
  if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) out.push(`${at}.value: at most 2000 characters`);
  if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') out.push(`${at}.style: primary or danger`);
  return out;
}

function block(b: unknown, at: string): string[] {
  if (!isObject(b)) return [`${at}: not an object`];
  if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > 255)) return [`${at}.block_id: at most 255 characters`];
  switch (b.type) {
    case 'section': {
      if (b.text === undefined && b.fields === undefined) return [`${at}: a section needs text or fields`];
      const out = b.text === undefined ? [] : textObject(b.text, `${at}.text`, 3000);
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > 10) out.push(`${at}.fields: 1 to 10 items`);
        else b.fields.forEach((f: unknown, i: number) => out.push(...textObject(f, `${at}.fields[${i}]`, 2000)));
      }
      return out;
    }
    case 'context':
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) return [`${at}.elements: 1 to 10 items`];
      return b.elements.flatMap((e: unknown, i: number) => textObject(e, `${at}.elements[${i}]`, 3000));
    case 'actions':
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) return [`${at}.elements: 1 to 25 items`];
      return b.elements.flatMap((e: unknown, i: number) => (isObject(e) && e.type === 'button' ? button(e, `${at}.elements[${i}]`) : [`${at}.elements[${i}]: only buttons are rendered here`]));
    case 'input':
      return [...textObject(b.label, `${at}.label`, 2000, ['plain_text']), ...(isObject(b.element) ? [] : [`${at}.element: required`])];
    case 'header':
      return textObject(b.text, `${at}.text`, 150, ['plain_text']);
    case 'divider':
      return [];
    case 'rich_text':
      return richText(b, at);
    default:
      return [`${at}: unknown block type \`${String(b.type)}\``];
  }
}

/** Slack's answer to `blocks` it would refuse: the problems, or none. `max` is 50 for a message, 100 for a view. */
export function blockProblems(blocks: unknown, max: number): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return ['blocks: expected an array'];
  if (blocks.length > max) return [`blocks: at most ${max} blocks`];
  return blocks.flatMap((b, i) => block(b, `blocks[${i}]`));
}
