/**
 * The narrator of a demo: readable lines as they happen, or (with `--json`) nothing until the end,
 * when the whole story is one JSON document. Steps are also kept for that document.
 */

export interface StoryStep {
  readonly at: string;
  readonly kind: 'title' | 'say' | 'agent' | 'gatehouse' | 'human' | 'fact';
  readonly text: string;
  readonly data?: unknown;
}

export class Story {
  readonly steps: StoryStep[] = [];

  constructor(
    private readonly quiet: boolean,
    private readonly write: (text: string) => void = (t) => process.stdout.write(t),
  ) {}

  private add(kind: StoryStep['kind'], text: string, prefix: string, data?: unknown): void {
    this.steps.push({ at: new Date().toISOString(), kind, text, ...(data === undefined ? {} : { data }) });
    if (!this.quiet) this.write(`${prefix}${text}\n`);
  }

  /** A heading. */
  title(text: string): void {
    this.add('title', text, '\n== ');
  }

  /** Narration. */
  say(text: string): void {
    this.add('say', text, '   ');
  }

  /** What the agent does. */
  agent(text: string, data?: unknown): void {
    this.add('agent', text, '  agent      > ', data);
  }

  /** What Gatehouse decides. */
  gatehouse(text: string, data?: unknown): void {
    this.add('gatehouse', text, '  gatehouse  < ', data);
  }

  /** What a human does. */
  human(text: string, data?: unknown): void {
    this.add('human', text, '  human      * ', data);
  }

  /** A measured fact (counts before and after). */
  fact(text: string, data?: unknown): void {
    this.add('fact', text, '  fact       = ', data);
  }

  /** Raw text (the trace), never recorded as a step. */
  raw(text: string): void {
    if (!this.quiet) this.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
